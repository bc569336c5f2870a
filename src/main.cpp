// clusterctl: thin entry point. Everything lives in the library; main only builds the
// process environment, calls cli::run and turns an escaped exception into exit code 2.

#include "clusterctl/cli/app.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    try {
        std::vector<std::string> args(argv, argv + argc);
        return clusterctl::cli::run(args, clusterctl::util::Environment::from_process(), std::cout,
                                    std::cerr);
    } catch (const std::exception& e) {
        std::cerr << "clusterctl: internal error: " << e.what() << "\n";
        return 2;
    }
}
