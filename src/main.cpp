// clusterctl: thin entry point. Everything lives in the library; main only builds the
// process environment, sizes stdout for whole-line writes, calls cli::run and turns an
// escaped exception (a bug: bad input is a Diagnostic, never an exception) into exit 70.

#include "clusterctl/cli/app.hpp"
#include "clusterctl/report/exit_code.hpp"
#include "clusterctl/ssh/library.hpp"

#include <exception>
#include <iostream>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char** argv) {
    try {
        // libssh2's global state, SIGPIPE ignored: once, before anything else.
        clusterctl::ssh::Library library;
        // Output is written in batches of whole lines: give each batch one write(2).
        std::ios::sync_with_stdio(false);
        static char out_buffer[1 << 20];
        std::cout.rdbuf()->pubsetbuf(out_buffer, sizeof out_buffer);
        std::vector<std::string> args(argv, argv + argc);
        clusterctl::cli::Terminal terminal{::isatty(1) == 1, ::isatty(2) == 1};
        if (winsize size{}; terminal.err && ::ioctl(2, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
            terminal.columns = size.ws_col;
        int code = clusterctl::cli::run(args, clusterctl::util::Environment::from_process(),
                                        std::cout, std::cerr, terminal);
        std::cout.flush();
        return code;
    } catch (const std::exception& e) {
        std::cerr << "clusterctl: internal error (a bug; please report it): " << e.what() << "\n";
        return clusterctl::report::to_int(clusterctl::report::ExitCode::internal);
    }
}
