#include "clusterctl/exec/upload_items.hpp"

#include <filesystem>
#include <fmt/format.h>

namespace clusterctl::exec {
namespace {

std::string remote(std::string path) {
    if (path == "~") return ".";
    if (path.rfind("~/", 0) == 0) return path.substr(2);
    return path;
}

int mode_of(const std::filesystem::path& p) {
    return static_cast<int>(std::filesystem::status(p).permissions()) & 07777;
}

} // namespace

util::Result<std::vector<ssh::UploadItem>>
upload_items(const std::vector<plan::FileTransfer>& transfers) {
    namespace fs = std::filesystem;
    std::vector<ssh::UploadItem> items;
    for (const auto& t : transfers) {
        std::string destination = remote(t.destination);
        if (t.content) {
            items.push_back({{}, t.content, destination, t.mode, false});
            continue;
        }
        std::error_code ec;
        if (!t.recursive || !fs::is_directory(t.source, ec)) {
            items.push_back({t.source, std::nullopt, destination, t.mode, false});
            continue;
        }
        items.push_back({{}, std::nullopt, destination, mode_of(t.source), true});
        fs::recursive_directory_iterator it(t.source, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            std::string relative = fs::relative(it->path(), t.source, ec).generic_string();
            std::string target = destination + "/" + relative;
            if (it->is_directory(ec))
                items.push_back({{}, std::nullopt, target, mode_of(it->path()), true});
            else if (it->is_regular_file(ec))
                items.push_back(
                    {it->path().string(), std::nullopt, target, mode_of(it->path()), false});
        }
        if (ec)
            return util::fail(util::error_at(
                {t.source, 0, 0}, fmt::format("cannot read '{}': {}", t.source, ec.message()),
                "check the directory's permissions"));
    }
    return items;
}

} // namespace clusterctl::exec
