// The engine's pure parts: base64 and fingerprints, private key inspection, the line
// splitter and tail, the timer heap, control lines and the run report.

#include "clusterctl/exec/line_splitter.hpp"
#include "clusterctl/exec/line_tail.hpp"
#include "clusterctl/exec/remote_wrapper.hpp"
#include "clusterctl/exec/timer_heap.hpp"
#include "clusterctl/output/log_writer.hpp"
#include "clusterctl/output/run_logs.hpp"
#include "clusterctl/report/run_report.hpp"
#include "clusterctl/ssh/identity.hpp"
#include "clusterctl/ssh/known_hosts.hpp"
#include "clusterctl/util/base64.hpp"

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <unistd.h>

namespace clusterctl {
namespace {

TEST(Base64, KnownVectorsAndRoundTrip) {
    EXPECT_EQ(util::base64_encode(""), "");
    EXPECT_EQ(util::base64_encode("f"), "Zg==");
    EXPECT_EQ(util::base64_encode("fo"), "Zm8=");
    EXPECT_EQ(util::base64_encode("foo"), "Zm9v");
    EXPECT_EQ(util::base64_encode("foob", false), "Zm9vYg");
    EXPECT_EQ(util::base64_decode("Zm9v\nYmFy").value(), "foobar");
    EXPECT_FALSE(util::base64_decode("Zm9v!").has_value());
    std::mt19937 random(1);
    for (int n = 0; n < 64; ++n) {
        std::string bytes;
        for (int i = 0; i < n; ++i)
            bytes += static_cast<char>(random());
        EXPECT_EQ(util::base64_decode(util::base64_encode(bytes)).value(), bytes);
    }
}

TEST(HostKeys, FingerprintAndNamesAsOpenSshWritesThem) {
    std::string digest(32, '\0'); // SHA-256 of nothing would do as well: the format is the point
    EXPECT_EQ(ssh::sha256_fingerprint(digest),
              "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    EXPECT_EQ(ssh::known_hosts_name("127.0.1.7", 2222), "[127.0.1.7]:2222");
    EXPECT_EQ(ssh::known_hosts_name("node-001", 22), "node-001");
}

std::string wire_string(std::string_view s) {
    std::string out(4, '\0');
    out[0] = static_cast<char>(s.size() >> 24);
    out[1] = static_cast<char>(s.size() >> 16);
    out[2] = static_cast<char>(s.size() >> 8);
    out[3] = static_cast<char>(s.size());
    return out + std::string(s);
}

// An "openssh-key-v1" file as ssh-keygen writes it, up to the public key (all that is read).
std::string openssh_key(std::string_view type, std::string_view cipher) {
    std::string body = std::string("openssh-key-v1", 15) + wire_string(cipher) +
                       wire_string(cipher == "none" ? "none" : "bcrypt") + wire_string("") +
                       std::string("\0\0\0\1", 4) + wire_string(wire_string(type) + "keybytes");
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + util::base64_encode(body) +
           "\n-----END OPENSSH PRIVATE KEY-----\n";
}

std::string from_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

// RFC 8032, section 7.1, test 1: the seed, its public key, and the signature of "".
const std::string k_seed =
    from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
const std::string k_public =
    from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const std::string k_signature =
    from_hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
             "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");

// A whole unencrypted "openssh-key-v1" ed25519 file, private section included.
std::string openssh_ed25519_file(std::string_view check2) {
    std::string blob = wire_string("ssh-ed25519") + wire_string(k_public);
    std::string secret = std::string("\x12\x34\x56\x78", 4) + std::string(check2) +
                         wire_string("ssh-ed25519") + wire_string(k_public) +
                         wire_string(k_seed + k_public) + wire_string("user@host") + "\x01\x02\x03";
    std::string body = std::string("openssh-key-v1", 15) + wire_string("none") +
                       wire_string("none") + wire_string("") + std::string("\0\0\0\1", 4) +
                       wire_string(blob) + wire_string(secret);
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + util::base64_encode(body) +
           "\n-----END OPENSSH PRIVATE KEY-----\n";
}

TEST(Identity, Ed25519KeyIsReadOnceAndSignsAsRfc8032Says) {
    auto parts = ssh::openssh_ed25519_parts(openssh_ed25519_file("\x12\x34\x56\x78"));
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->seed, k_seed);
    EXPECT_EQ(parts->public_blob, wire_string("ssh-ed25519") + wire_string(k_public));
    auto key = ssh::Ed25519Key::from_seed(parts->seed, parts->public_blob);
    ASSERT_TRUE(key);
    EXPECT_EQ(key->sign(""), k_signature);
    // Check words that differ mean a wrong passphrase or a damaged file: not a key.
    EXPECT_FALSE(ssh::openssh_ed25519_parts(openssh_ed25519_file("\x12\x34\x56\x79")));
    // Encrypted keys and other types go to libssh2 as they are.
    EXPECT_FALSE(ssh::openssh_ed25519_parts(openssh_key("ssh-ed25519", "aes256-ctr")));
    EXPECT_FALSE(ssh::openssh_ed25519_parts(openssh_key("ecdsa-sha2-nistp256", "none")));
    EXPECT_FALSE(ssh::Ed25519Key::from_seed("short", ""));
}

TEST(Identity, InspectsOpenSshAndPemKeys) {
    auto ed = ssh::inspect_private_key(openssh_key("ssh-ed25519", "none"));
    ASSERT_TRUE(ed);
    EXPECT_EQ(ed->type, ssh::KeyType::ed25519);
    EXPECT_FALSE(ed->encrypted);
    auto locked = ssh::inspect_private_key(openssh_key("ssh-ed25519", "aes256-ctr"));
    EXPECT_TRUE(locked->encrypted);
    EXPECT_EQ(ssh::inspect_private_key(openssh_key("ssh-rsa", "none"))->type, ssh::KeyType::rsa);
    EXPECT_EQ(ssh::inspect_private_key(openssh_key("ecdsa-sha2-nistp256", "none"))->type,
              ssh::KeyType::ecdsa);
    auto pem = ssh::inspect_private_key("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                                        "MIIB\n-----END RSA PRIVATE KEY-----\n");
    ASSERT_TRUE(pem);
    EXPECT_EQ(pem->type, ssh::KeyType::rsa);
    EXPECT_TRUE(pem->encrypted);
    EXPECT_FALSE(ssh::inspect_private_key("ssh-ed25519 AAAA... a public key"));
    EXPECT_FALSE(ssh::inspect_private_key(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n"));
}

TEST(LineSplitter, LinesSplitAnywhereComeOutWhole) {
    std::string text;
    for (int i = 0; i < 500; ++i)
        text +=
            "line " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 37), 'x') + "\n";
    text += "partial";
    std::mt19937 random(3);
    for (int round = 0; round < 20; ++round) {
        exec::LineSplitter splitter;
        std::vector<std::string> lines;
        auto collect = [&](std::string_view l) { lines.emplace_back(l); };
        for (std::size_t at = 0; at < text.size();) {
            std::size_t n = std::min<std::size_t>(text.size() - at, random() % 90 + 1);
            splitter.feed(std::string_view(text).substr(at, n), collect);
            at += n;
        }
        ASSERT_EQ(lines.size(), 500u);
        EXPECT_EQ(lines[7], "line 7xxxxxxx");
        splitter.flush(collect);
        EXPECT_EQ(lines.back(), "partial");
    }
}

TEST(LineSplitter, AnEndlessLineIsPassedOnInPieces) {
    exec::LineSplitter splitter(8);
    std::vector<std::string> lines;
    splitter.feed("abcdefghijklmnopqrst\nuv", [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(lines, (std::vector<std::string>{"abcdefghijklmnopqrst"}));
    lines.clear();
    splitter.feed("wxyz0123456789", [&](std::string_view l) { lines.emplace_back(l); });
    EXPECT_EQ(lines, (std::vector<std::string>{"uvwxyz01", "23456789"}));
}

TEST(LineTail, KeepsTheLastLinesOldestFirst) {
    exec::LineTail tail;
    EXPECT_TRUE(tail.lines().empty());
    for (int i = 0; i < 25; ++i)
        tail.push("line " + std::to_string(i));
    auto lines = tail.lines();
    ASSERT_EQ(lines.size(), exec::LineTail::k_lines);
    EXPECT_EQ(lines.front(), "line 5");
    EXPECT_EQ(lines.back(), "line 24");
    tail.clear();
    tail.push("after");
    EXPECT_EQ(tail.lines(), (std::vector<std::string>{"after"}));
}

TEST(LineTail, CutsALongLineAtACharacterBoundary) {
    exec::LineTail tail;
    // 'é' is two bytes: byte 512 is the second byte of one, so the cut falls before it.
    std::string line = std::string(511, 'a') + "\xc3\xa9" + std::string(1000, 'b');
    tail.push(line);
    EXPECT_EQ(tail.lines().front(), std::string(511, 'a') + " ... (1002 more bytes)");
    tail.push(std::string(512, 'c'));
    EXPECT_EQ(tail.lines().back(), std::string(512, 'c'));
}

TEST(TimerHeap, FiresInOrderAndReArmingReplaces) {
    using namespace std::chrono_literals;
    exec::TimerHeap heap;
    auto t0 = exec::TimerHeap::Clock::now();
    heap.arm(1, t0 + 30ms);
    heap.arm(2, t0 + 10ms);
    heap.arm(3, t0 + 20ms);
    heap.arm(1, t0 + 5ms); // replaces 30 ms
    heap.disarm(3);
    EXPECT_EQ(heap.next(), t0 + 5ms);
    std::vector<std::size_t> fired;
    heap.expire(t0 + 100ms, [&](std::size_t owner) { fired.push_back(owner); });
    EXPECT_EQ(fired, (std::vector<std::size_t>{1, 2}));
    EXPECT_FALSE(heap.next().has_value());
}

TEST(RemoteWrapper, ControlLinesAndInputFraming) {
    auto control = exec::parse_control_line("\x1e"
                                            "clusterctl:step 4242");
    ASSERT_TRUE(control);
    EXPECT_EQ(control->word, "step");
    EXPECT_EQ(control->argument, "4242");
    EXPECT_FALSE(exec::parse_control_line("clusterctl:skipped"));
    EXPECT_EQ(exec::wrapper_input("echo hi\n", 10), "8 10\necho hi\n");
}

// 2 MB of output from each of 64 hosts would be 31,000 writes a host 4 KiB at a time; the
// log keeps 32 KiB before it hands them to its writer thread.
TEST(RunLogs, AHostLogIsWrittenIn32KiBPieces) {
    std::string dir = ::testing::TempDir() + "run_logs_test";
    std::filesystem::remove_all(dir);
    std::string log = dir + "/node-1.log";
    {
        output::RunLogs logs(dir, {"node-1"});
        ASSERT_EQ(logs.error(), "");
        std::string line(99, 'x'); // 100 bytes with its newline
        for (int i = 0; i < 300; ++i)
            logs.line(0, line);
        EXPECT_EQ(std::filesystem::file_size(log), 0u) << "30,000 bytes fit in the buffer";
        for (int i = 0; i < 100; ++i)
            logs.line(0, line);
        // The first 32 KiB, and the 100-byte line that crossed it, go to the writer thread.
        for (int wait = 0; wait < 200 && std::filesystem::file_size(log) == 0; ++wait)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        EXPECT_EQ(std::filesystem::file_size(log), 32'800u);
        nlohmann::json summary = nlohmann::json::object();
        EXPECT_TRUE(logs.write_summary(summary).empty());
        EXPECT_EQ(std::filesystem::file_size(log), 40'000u);
        EXPECT_TRUE(std::filesystem::exists(dir + "/summary.json"));
    }
    std::filesystem::remove_all(dir);
}

// A log that cannot be made is named, with why, in the summary and in what comes back;
// the summary's room (taken first) is cut back to what it holds.
TEST(RunLogs, ALogThatCannotBeWrittenIsNamedInTheSummary) {
    std::string dir = ::testing::TempDir() + "run_logs_lost_test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir + "/node-2.log"); // in the log's way
    {
        output::RunLogs logs(dir, {"node-1", "node-2"});
        EXPECT_GE(std::filesystem::file_size(dir + "/summary.json"), 64u * 1024)
            << "the summary's room is taken before any log is written";
        logs.line(0, "fine");
        logs.line(1, "lost");
        logs.line(1, "lost again");
        nlohmann::json summary = {{"action", "exec"}};
        auto lost = logs.write_summary(summary);
        ASSERT_EQ(lost.size(), 1u);
        EXPECT_EQ(lost[0], dir + "/node-2.log: Is a directory");
        std::ifstream in(dir + "/summary.json");
        auto written = nlohmann::json::parse(in);
        EXPECT_EQ(written["logs_incomplete"], nlohmann::json::array({lost[0]}));
        EXPECT_EQ(written["action"], "exec");
        EXPECT_EQ(summary["logs_incomplete"], written["logs_incomplete"]);
    }
    std::filesystem::remove_all(dir);
}

TEST(LogWriter, WritesChunksInOrderAndSaysWhatFailed) {
    std::string path = ::testing::TempDir() + "log_writer_test.log";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(full, 0);
    output::LogWriter writer(64); // a small limit: write() waits for room now and then
    std::string expected;
    for (int i = 0; i < 1000; ++i) {
        std::string chunk = std::to_string(i) + "\n";
        expected += chunk;
        writer.write(fd, chunk);
    }
    EXPECT_TRUE(writer.finish().empty());
    writer.write(full, "lost\n");
    writer.write(full, "lost again\n");
    ASSERT_EQ(writer.finish().size(), 1u) << "one failure per descriptor";
    EXPECT_EQ(writer.finish().front().fd, full);
    EXPECT_EQ(writer.finish().front().reason, "No space left on device");
    ::close(fd);
    ::close(full);
    std::ifstream in(path);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), expected);
    std::filesystem::remove(path);
}

TEST(RunReport, ExitCodeAndSummary) {
    report::RunSummary s;
    s.action = "exec";
    s.job_id = "j";
    for (int i = 1; i <= 12; ++i) {
        report::HostOutcome h;
        h.host = "n" + std::to_string(i);
        h.state = i <= 2 ? report::HostState::done : report::HostState::failed;
        h.stage = "connect";
        h.message = "refused";
        s.hosts.push_back(h);
    }
    EXPECT_EQ(report::exit_code_of(s), report::ExitCode::remote_failure);
    std::string text = report::render_summary_text(s, false);
    EXPECT_NE(text.find("12 hosts: 2 ok, 10 failed"), std::string::npos) << text;
    EXPECT_NE(text.find("  n3 connect: refused\n"), std::string::npos) << text;
    EXPECT_NE(text.find("and 2 more failed: n[11-12]"), std::string::npos) << text;
    s.interrupted = true;
    EXPECT_EQ(report::exit_code_of(s), report::ExitCode::interrupted);
    for (auto& h : s.hosts)
        h.state = report::HostState::done;
    s.interrupted = false;
    EXPECT_EQ(report::exit_code_of(s), report::ExitCode::success);
    EXPECT_EQ(report::summary_json(s)["counts"]["done"], 12);
}

} // namespace
} // namespace clusterctl
