#include "clusterctl/util/text_file.hpp"

#include "clusterctl/util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace clusterctl::util {

namespace {

std::string kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

// The bytes of a regular file of at most `limit` bytes, or why not. O_NONBLOCK keeps the
// open of a FIFO from waiting for a writer; the type is checked on the descriptor itself.
struct ReadOutcome {
    std::string text;
    std::string problem; // empty: read
    std::string hint;
};

ReadOutcome read_bounded(const std::string& path, std::size_t limit) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return {"", std::strerror(e),
                e == EACCES ? "check its permissions"
                            : "check the path; relative paths are taken from the config's folder"};
    }
    struct stat st {};
    ReadOutcome out;
    if (::fstat(fd, &st) != 0) {
        out = {"", std::strerror(errno), "check the path"};
    } else if (!S_ISREG(st.st_mode)) {
        out = {"", "it is " + kind_of(st.st_mode), "name a regular file"};
    } else if (static_cast<std::uintmax_t>(st.st_size) > limit) {
        out = {"", fmt::format("it is {} bytes, over the limit of {} KiB", st.st_size, limit >> 10),
               "input files are read whole: keep them small"};
    } else {
        // One byte more than its size: the read that finds the end needs no second buffer.
        out.text.resize(static_cast<std::size_t>(st.st_size) + 1);
        std::size_t got = 0;
        for (;;) {
            if (got == out.text.size()) out.text.resize(std::min(limit + 1, got + 65536));
            ssize_t n = ::read(fd, out.text.data() + got, out.text.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                out = {"", std::strerror(errno), "check the file"};
                break;
            }
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
            if (got > limit) {
                out = {"", fmt::format("it grew past the limit of {} KiB while read", limit >> 10),
                       "input files are read whole: keep them small"};
                break;
            }
        }
        if (out.problem.empty()) out.text.resize(got);
    }
    ::close(fd);
    return out;
}

} // namespace

Result<std::string> read_text_file(const std::string& path, const std::string& what,
                                   const SourceLocation& origin, std::size_t limit) {
    ReadOutcome read = read_bounded(path, limit);
    if (!read.problem.empty())
        return fail(error_at(
            origin, "cannot read " + what + " " + quoted(path) + ": " + read.problem, read.hint));
    return std::move(read.text);
}

Status for_each_line(std::string_view text, const std::string& path,
                     const std::function<Status(std::string_view, const SourceLocation&)>& visit) {
    int number = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1); // saved on Windows
        if (auto s = visit(line, {path, ++number, 1}); !s) return s;
        pos = end + 1;
    }
    return Ok{};
}

std::optional<std::string> read_file_if_present(const std::string& path) {
    ReadOutcome read = read_bounded(path, k_input_file_limit);
    if (!read.problem.empty()) return std::nullopt;
    return std::move(read.text);
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
