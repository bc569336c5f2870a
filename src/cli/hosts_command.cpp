#include "clusterctl/output/host_table.hpp"
#include "clusterctl/report/exit_code.hpp"
#include "context.hpp"
#include "inputs.hpp"

#include <fmt/format.h>

namespace clusterctl::cli {

void set_hosts_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("hosts", "List the resolved hosts: address, user, jump, slots, "
                                            "rank");
    sub->footer("Examples:\n"
                "  clusterctl hosts                       # hosts of ./clusterctl.yaml\n"
                "  clusterctl -w 'node-[001-004]' hosts --json\n"
                "  clusterctl --hostfile hostfile -x node-003 hosts");
    table[sub] = [](Context& ctx) {
        ctx.secrets_needed = false; // it only looks: no secret value is needed
        auto inputs = load_inputs(ctx);
        if (!inputs) return report_error(ctx, inputs.error());
        const auto& hosts = inputs->inventory.hosts;
        ctx.out << (ctx.options.json ? output::render_hosts_json(hosts)
                                     : output::render_host_table(hosts));
        return report::to_int(report::ExitCode::success);
    };
}

} // namespace clusterctl::cli
