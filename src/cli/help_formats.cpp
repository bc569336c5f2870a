// The man page and the bash and zsh completions, made from the same definitions as
// --help (define_commands): an option added there is documented and completed with no
// second text to keep in step. The package's build runs `clusterctl manpage` and
// `clusterctl completion bash|zsh` and installs what they print.

#include "clusterctl/report/exit_code.hpp"
#include "context.hpp"

#include <fmt/format.h>
#include <sstream>

#ifndef CLUSTERCTL_VERSION
#define CLUSTERCTL_VERSION "0.0.0"
#endif

namespace clusterctl::cli {
namespace {

struct Definitions {
    CLI::App app{"", "clusterctl"};
    GlobalOptions options;
    CommandTable table;
    Definitions() { define_commands(app, options, table); }
};

bool shown(const CLI::App* sub) {
    return !sub->get_group().empty(); // a hidden command has no group
}

std::vector<const CLI::App*> commands(const CLI::App& app) {
    std::vector<const CLI::App*> out;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        if (shown(sub)) out.push_back(sub);
    return out;
}

// An app's named options; a command's own --help is said once, among the global options.
std::vector<const CLI::Option*> flags(const CLI::App& app) {
    std::vector<const CLI::Option*> out;
    bool command = app.get_parent() != nullptr;
    for (const auto* opt : app.get_options()) {
        if (opt->get_positional() || opt->get_group().empty()) continue;
        if (opt->get_lnames().empty() && opt->get_snames().empty()) continue;
        if (command && opt == app.get_help_ptr()) continue;
        out.push_back(opt);
    }
    return out;
}

std::vector<std::string> names(const CLI::Option* opt) {
    std::vector<std::string> out;
    for (const auto& s : opt->get_snames())
        out.push_back("-" + s);
    for (const auto& l : opt->get_lnames())
        out.push_back("--" + l);
    return out;
}

bool takes_value(const CLI::Option* opt) {
    return opt->get_items_expected_max() != 0;
}

// A value's kind as the option's text says it: FILE and DIR complete paths.
std::string value_kind(const CLI::Option* opt) {
    std::string text = opt->get_option_text();
    if (text.empty()) text = opt->get_type_name();
    return text;
}

// roff: backslashes escaped, '-' as a minus, a line starting with '.' or '\'' guarded.
std::string roff(const std::string& text) {
    std::string out;
    bool line_start = true;
    for (char c : text) {
        if (line_start && (c == '.' || c == '\'')) out += "\\&";
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else
            out += c;
        line_start = c == '\n';
    }
    return out;
}

void roff_options(std::ostringstream& out, const std::vector<const CLI::Option*>& options) {
    for (const auto* opt : options) {
        out << ".TP\n";
        std::string head;
        for (const auto& name : names(opt))
            head += (head.empty() ? "" : ", ") + fmt::format("\\fB{}\\fR", roff(name));
        if (takes_value(opt)) head += fmt::format(" \\fI{}\\fR", roff(value_kind(opt)));
        out << head << "\n" << roff(opt->get_description()) << "\n";
    }
}

void roff_positionals(std::ostringstream& out, const CLI::App& sub) {
    for (const auto* opt : sub.get_options())
        if (opt->get_positional())
            out << ".TP\n\\fI" << roff(opt->get_name()) << "\\fR\n"
                << roff(opt->get_description()) << "\n";
}

// The footer's "Examples:" and other paragraphs, kept as they are laid out.
void roff_block(std::ostringstream& out, const std::string& text) {
    if (text.empty()) return;
    out << ".PP\n.nf\n" << roff(text) << "\n.fi\n";
}

std::string zsh_quote(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\'')
            out += "'\\''";
        else if (c == '[' || c == ']' || c == ':')
            out += std::string("\\") + c;
        else if (c != '\n')
            out += c;
    }
    return out;
}

std::string zsh_spec(const CLI::Option* opt) {
    auto all = names(opt);
    std::string description = zsh_quote(opt->get_description());
    std::string value;
    if (takes_value(opt)) {
        std::string kind = value_kind(opt);
        std::string action = kind == "FILE" ? "_files" : kind == "DIR" ? "_files -/" : " ";
        value = fmt::format(":{}:{}", zsh_quote(kind), action);
    }
    std::string exclusive;
    if (all.size() > 1) {
        for (const auto& n : all)
            exclusive += (exclusive.empty() ? "" : " ") + n;
        exclusive = "(" + exclusive + ")";
    }
    std::string out;
    for (const auto& n : all)
        out += fmt::format("    '{}{}[{}]{}' \\\n", exclusive, n, description, value);
    return out;
}

} // namespace

std::string man_page() {
    Definitions d;
    std::ostringstream out;
    out << ".TH CLUSTERCTL 1 \"\" \"clusterctl " << CLUSTERCTL_VERSION << "\" \"User Commands\"\n"
        << ".SH NAME\nclusterctl \\- launch distributed training on GPU clusters over SSH\n"
        << ".SH SYNOPSIS\n.B clusterctl\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n"
        << ".SH DESCRIPTION\n"
        << roff(d.app.get_description()) << "\n"
        << ".SH OPTIONS\nOptions are accepted before or after the command.\n";
    roff_options(out, flags(d.app));
    out << ".SH COMMANDS\n";
    for (const auto* sub : commands(d.app)) {
        out << ".SS " << roff(sub->get_name()) << "\n" << roff(sub->get_description()) << "\n";
        roff_positionals(out, *sub);
        roff_options(out, flags(*sub));
        roff_block(out, sub->get_footer());
    }
    out << ".SH EXAMPLES AND EXIT STATUS\n";
    roff_block(out, d.app.get_footer());
    out << ".SH FILES\n.TP\n\\fI./clusterctl.yaml\\fR\nthe config a command runs from "
           "(\\fB\\-c\\fR)\n.TP\n\\fI~/.clusterctl/logs/RUN/\\fR\nevery host's log and "
           "summary.json of each run\n.TP\n\\fI~/.clusterctl/jobs/\\fR\nthe record of every "
           "training job started here (status, logs, stop)\n.TP\n"
           "\\fI/usr/share/clusterctl/clusterctl.schema.json\\fR\nthe config's JSON Schema, for "
           "editors\n.TP\n\\fI/usr/share/doc/clusterctl/\\fR\nCONFIG.md (every key), "
           "COMPATIBILITY.md, SLURM.md, ARCHITECTURE.md\n"
        << ".SH ENVIRONMENT\n.TP\n\\fBNO_COLOR\\fR\nno colour, even on a terminal\n.TP\n"
           "\\fBSSH_AUTH_SOCK\\fR\nthe ssh\\-agent keys are tried from\n"
        << ".SH SEE ALSO\n\\fBssh_config\\fR(5), \\fBnodeset\\fR(1), \\fBtorchrun\\fR(1)\n";
    return out.str();
}

std::string completion_script(std::string_view shell) {
    Definitions d;
    std::ostringstream out;
    std::string command_names;
    for (const auto* sub : commands(d.app))
        command_names += (command_names.empty() ? "" : " ") + sub->get_name();
    auto words = [](const std::vector<const CLI::Option*>& options) {
        std::string text;
        for (const auto* opt : options)
            for (const auto& n : names(opt))
                text += (text.empty() ? "" : " ") + n;
        return text;
    };
    if (shell == "bash") {
        std::string files, dirs, valued;
        auto collect = [&](const std::vector<const CLI::Option*>& options) {
            for (const auto* opt : options) {
                if (!takes_value(opt)) continue;
                for (const auto& n : names(opt)) {
                    valued += "|" + n;
                    if (value_kind(opt) == "FILE") files += "|" + n;
                    if (value_kind(opt) == "DIR") dirs += "|" + n;
                }
            }
        };
        collect(flags(d.app));
        for (const auto* sub : commands(d.app))
            collect(flags(*sub));
        out << "# bash completion for clusterctl (made by `clusterctl completion bash`)\n"
            << "_clusterctl() {\n"
            << "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
            << "    local commands='" << command_names << "'\n"
            << "    local global='" << words(flags(d.app)) << "'\n"
            << "    local command='' i\n"
            << "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
            << "        case \" $commands \" in *\" ${COMP_WORDS[i]} \"*) "
               "command=${COMP_WORDS[i]}; break ;; esac\n"
            << "    done\n"
            << "    local own=''\n"
            << "    case $command in\n";
        for (const auto* sub : commands(d.app))
            out << "    " << sub->get_name() << ") own='" << words(flags(*sub)) << "' ;;\n";
        out << "    esac\n"
            << "    case $prev in\n"
            << "    " << (files.empty() ? "''" : files.substr(1))
            << ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
            << "    " << (dirs.empty() ? "''" : dirs.substr(1))
            << ") COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
            << "    " << valued.substr(1) << ") return ;;\n"
            << "    esac\n"
            << "    if [[ $cur == -* ]]; then\n"
            << "        COMPREPLY=($(compgen -W \"$global $own\" -- \"$cur\"))\n"
            << "    elif [[ -z $command ]]; then\n"
            << "        COMPREPLY=($(compgen -W \"$commands\" -- \"$cur\"))\n"
            << "    else\n"
            << "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
            << "    fi\n"
            << "}\n"
            << "complete -F _clusterctl clusterctl\n";
        return out.str();
    }
    // zsh
    out << "#compdef clusterctl\n"
        << "# zsh completion for clusterctl (made by `clusterctl completion zsh`)\n"
        << "_clusterctl() {\n"
        << "  local -a commands global\n"
        << "  commands=(\n";
    for (const auto* sub : commands(d.app))
        out << "    '" << sub->get_name() << ":" << zsh_quote(sub->get_description()) << "'\n";
    out << "  )\n  global=(\n";
    for (const auto* opt : flags(d.app))
        out << zsh_spec(opt);
    out << "  )\n"
        << "  local curcontext=$curcontext state line\n"
        << "  _arguments -C $global '1:command:->command' '*::argument:->argument'\n"
        << "  case $state in\n"
        << "  command) _describe -t commands 'clusterctl command' commands ;;\n"
        << "  argument)\n"
        << "    case $line[1] in\n";
    for (const auto* sub : commands(d.app)) {
        out << "    " << sub->get_name() << ")\n      _arguments $global \\\n";
        for (const auto* opt : flags(*sub))
            out << "  " << zsh_spec(opt);
        out << "        '*:file:_files' ;;\n";
    }
    out << "    esac ;;\n  esac\n}\n_clusterctl \"$@\"\n";
    return out.str();
}

void set_completion_command(CLI::App& app, CommandTable& table) {
    auto* sub = app.add_subcommand("completion", "Print the bash or zsh completion script");
    auto shell = std::make_shared<std::string>();
    sub->add_option("SHELL", *shell, "bash or zsh")
        ->required()
        ->check(CLI::IsMember({"bash", "zsh"}));
    sub->footer("Examples:\n"
                "  source <(clusterctl completion bash)           # this shell\n"
                "  clusterctl completion zsh > ~/.zfunc/_clusterctl\n"
                "  (the Debian package installs both)");
    table[sub] = [shell](Context& ctx) {
        ctx.out << completion_script(*shell);
        return report::to_int(report::ExitCode::success);
    };
    // The man page, for the package's build: not a command users need.
    auto* man = app.add_subcommand("manpage", "Print the man page (roff)");
    man->group("");
    table[man] = [](Context& ctx) {
        ctx.out << man_page();
        return report::to_int(report::ExitCode::success);
    };
}

} // namespace clusterctl::cli
