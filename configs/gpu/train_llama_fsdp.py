"""A small Llama trained with FSDP in bf16, as the seed's Axolotl job trains Llama 3.1 405B,
on synthetic tokens: nothing is downloaded. Built from a transformers LlamaConfig with random
weights; one FSDP unit per decoder layer, bf16 mixed precision (params, reductions and
buffers), NCCL. Every rank prints its rank, node and GPU at start, then loss, tokens/s and
peak memory every --log-every steps; rank 0 prints the first step's time (launch overhead is
measured to it).

The task is learnable so that the loss falls within a few hundred steps: each sequence counts
up from a random start, modulo --task-vocab (token t+1 follows token t), so the loss goes from
ln(vocab) to near zero.

    torchrun --nproc_per_node=1 train_llama_fsdp.py --steps 300
"""
import argparse
import functools
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.fsdp import MixedPrecision, ShardingStrategy
from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama.modeling_llama import LlamaDecoderLayer


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=8, help="sequences per rank per step")
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--task-vocab", type=int, default=512, help="tokens the sequences use")
    p.add_argument("--log-every", type=int, default=10)
    args = p.parse_args()

    dist.init_process_group("nccl")
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ["LOCAL_RANK"])
    node_rank = int(os.environ.get("GROUP_RANK", "0"))
    torch.cuda.set_device(local_rank)
    dev = torch.cuda.current_device()
    print(f"rank {rank}/{world} local_rank {local_rank} node_rank {node_rank} "
          f"host {socket.gethostname()} gpu {torch.cuda.get_device_name(dev)} "
          f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '')}", flush=True)

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=args.vocab, hidden_size=args.hidden,
                      intermediate_size=args.hidden * 8 // 3 // 64 * 64,
                      num_hidden_layers=args.layers, num_attention_heads=args.heads,
                      num_key_value_heads=args.heads // 4, max_position_embeddings=args.seq)
    with torch.device("cuda"):
        model = LlamaForCausalLM(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    model = FSDP(
        model,
        auto_wrap_policy=functools.partial(transformer_auto_wrap_policy,
                                           transformer_layer_cls={LlamaDecoderLayer}),
        mixed_precision=MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.bfloat16,
                                       buffer_dtype=torch.bfloat16),
        sharding_strategy=ShardingStrategy.FULL_SHARD,
        device_id=dev,
        use_orig_params=True,
    )
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), fused=True)
    if rank == 0:
        print(f"model: Llama {n_params / 1e6:.1f}M params, {args.layers} layers, hidden "
              f"{args.hidden}; FSDP full shard, bf16; world {world}", flush=True)

    gen = torch.Generator(device="cuda").manual_seed(1000 + rank)
    positions = torch.arange(args.seq, device="cuda")
    tokens_per_step = args.batch * args.seq
    torch.cuda.reset_peak_memory_stats()
    window_start, window_tokens = time.perf_counter(), 0
    for step in range(1, args.steps + 1):
        start = torch.randint(0, args.task_vocab, (args.batch, 1), device="cuda", generator=gen)
        x = (start + positions) % args.task_vocab
        out = model(input_ids=x, labels=x)
        out.loss.backward()
        model.clip_grad_norm_(1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        window_tokens += tokens_per_step
        if step == 1 or step % args.log_every == 0 or step == args.steps:
            loss = out.loss.detach()
            dist.all_reduce(loss, op=dist.ReduceOp.AVG)
            torch.cuda.synchronize()
            now = time.perf_counter()
            tps = window_tokens / (now - window_start)
            peak = torch.cuda.max_memory_allocated() / 2**30
            print(f"rank {rank} step {step} loss {loss.item():.4f} tokens/s/gpu {tps:.0f} "
                  f"peak_mem_gib {peak:.2f}", flush=True)
            if step == 1 and rank == 0:
                print(f"first step done at unix {time.time():.3f}", flush=True)
            window_start, window_tokens = now, 0
    dist.barrier()
    if rank == 0:
        print("done", flush=True)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
