// Files to hosts over SFTP against real sshd hosts, each chrooted in a filesystem of its
// own: 50 MB to 16 hosts, directories, a session the server closes after login.

#include "ssh_suite.hpp"

namespace clusterctl::test_support {
namespace {

TEST(Push, FiftyMegabytesToSixteenHostsOfTheirOwn) {
    // Each host serves SFTP chrooted in a directory of its own: sixteen filesystems.
    Farm farm(16, test_seed(), "--sftp-chroot", "/run/clusterctl-tests");
    std::string source = farm.file("model.bin");
    {
        std::ofstream out(source, std::ios::binary);
        std::mt19937_64 random(7);
        std::vector<std::uint64_t> block(1 << 16);
        for (int i = 0; i < 100; ++i) { // 100 x 512 KiB = 50 MiB
            for (auto& v : block)
                v = random();
            out.write(reinterpret_cast<const char*>(block.data()), block.size() * 8);
        }
    }
    ::chmod(source.c_str(), 0640);
    auto r = farm.run({"push", source, "/model.bin"}, {}, 300s);
    ASSERT_EQ(r.code, 0) << r.err;
    std::string expected = read_file(source);
    for (int i = 1; i <= 16; ++i) {
        char name[8];
        std::snprintf(name, sizeof name, "h%03d", i);
        std::string copy = farm.file(std::string("chroot/") + name + "/model.bin");
        EXPECT_TRUE(read_file(copy) == expected) << copy << " differs";
        struct stat st {};
        ::stat(copy.c_str(), &st);
        EXPECT_EQ(st.st_mode & 07777, 0640u) << copy;
        EXPECT_FALSE(std::filesystem::exists(copy + ".clusterctl-partial." + name));
    }
}

// sshd logs the user in, then refuses h002's ChrootDirectory (world-writable, as on a tmpfs
// /run) and closes the session it opened: push ends that host within the login's limit,
// named, in words; exec sees the session end before its command starts and says so; h001
// is unaffected.
TEST(Push, ASessionTheServerClosesAfterLoginEndsThatHostNamed) {
    Farm farm(2, test_seed(), "--sftp-chroot", "/run/clusterctl-tests");
    ASSERT_EQ(::chmod(farm.file("chroot/h002").c_str(), 0777), 0);
    std::string source = farm.file("small.txt");
    write_file(source, "hello\n");
    auto start = std::chrono::steady_clock::now();
    auto r = farm.run({"--connect-timeout", "3", "push", source, "/small.txt"}, {}, 60s);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_LT(took, 20) << "the host is not waited on forever";
    EXPECT_EQ(read_file(farm.file("chroot/h001/small.txt")), "hello\n");
    auto h2 = host_in(summary_of(farm), "h002");
    EXPECT_EQ(h2["stage"], "session");
    EXPECT_NE(h2["message"].get<std::string>().find(
                  "the server closed the session after login: SFTP did not start within 3 s"),
              std::string::npos)
        << h2;
    // exec on the same host: its session ends at once, before the wrapper's first line.
    auto e = farm.run({"-w", "h002", "exec", "--", "true"}, {}, 60s);
    EXPECT_EQ(e.code, 1) << e.err;
    EXPECT_NE(e.err.find("h002 session: the server closed the session after login, before the "
                         "command started (exit 255, nothing printed)"),
              std::string::npos)
        << e.err;
}

TEST(Push, DirectoryRecursively) {
    Farm farm(2, test_seed(), "--sftp-chroot", "/run/clusterctl-tests");
    std::filesystem::create_directories(farm.file("src/sub/deeper"));
    write_file(farm.file("src/a.txt"), "alpha\n");
    write_file(farm.file("src/sub/deeper/b.sh"), "#!/bin/sh\necho b\n");
    ::chmod(farm.file("src/sub/deeper/b.sh").c_str(), 0755);
    auto r = farm.run({"push", "-r", farm.file("src"), "/configs"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(read_file(farm.file("chroot/h002/configs/a.txt")), "alpha\n");
    EXPECT_EQ(read_file(farm.file("chroot/h002/configs/sub/deeper/b.sh")), "#!/bin/sh\necho b\n");
    struct stat st {};
    ::stat(farm.file("chroot/h002/configs/sub/deeper/b.sh").c_str(), &st);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    // Again, over what is there: files are replaced, directories kept.
    write_file(farm.file("src/a.txt"), "beta\n");
    ASSERT_EQ(farm.run({"push", "-r", farm.file("src"), "/configs"}).code, 0);
    EXPECT_EQ(read_file(farm.file("chroot/h001/configs/a.txt")), "beta\n");
}

} // namespace
} // namespace clusterctl::test_support
