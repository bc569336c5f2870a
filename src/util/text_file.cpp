#include "clusterctl/util/text_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace clusterctl::util {

Result<std::string> read_text_file(const std::string& path, const std::string& what,
                                   const SourceLocation& origin) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return fail(error_at(origin,
                             "cannot read " + what + " '" + path + "': " + std::strerror(errno),
                             "check the path; relative paths are taken from the config's folder"));
    }
    if (S_ISDIR(st.st_mode)) {
        return fail(error_at(origin, "cannot read " + what + " '" + path + "': it is a directory",
                             "name a file"));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail(error_at(origin,
                             "cannot read " + what + " '" + path + "': " + std::strerror(errno),
                             "check its permissions"));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

Status for_each_line(std::string_view text, const std::string& path,
                     const std::function<Status(std::string_view, const SourceLocation&)>& visit) {
    int number = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        if (auto s = visit(text.substr(pos, end - pos), {path, ++number, 1}); !s) return s;
        pos = end + 1;
    }
    return Ok{};
}

std::optional<std::string> read_file_if_present(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

std::string parent_directory(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string resolve_path(const std::string& base_dir, const std::string& path) {
    if (path.empty() || path.front() == '/' || base_dir.empty() || base_dir == ".") return path;
    return base_dir + "/" + path;
}

} // namespace clusterctl::util
