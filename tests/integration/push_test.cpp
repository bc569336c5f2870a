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

// As scp: a destination ending in '/' is a folder to copy into; what goes wrong is said
// in words, with the path it is about and the way out.
TEST(Push, IntoAFolderAndErrorsInWords) {
    Farm farm(2, test_seed(), "--sftp-chroot", "/run/clusterctl-tests");
    write_file(farm.file("train.py"), "print(1)\n");
    for (const char* host : {"h001", "h002"})
        std::filesystem::create_directories(farm.file(std::string("chroot/") + host + "/run"));
    auto into = farm.run({"push", farm.file("train.py"), "/run/"});
    ASSERT_EQ(into.code, 0) << into.err;
    EXPECT_EQ(read_file(farm.file("chroot/h002/run/train.py")), "print(1)\n");

    auto missing = farm.run({"push", farm.file("train.py"), "/nowhere/train.py"});
    EXPECT_EQ(missing.code, 1);
    EXPECT_NE(missing.err.find("cannot create /nowhere/train.py: the folder /nowhere does not "
                               "exist on the host (create it first: clusterctl exec -- mkdir -p "
                               "/nowhere"),
              std::string::npos)
        << missing.err;
    EXPECT_EQ(missing.err.find("SFTP status"), std::string::npos) << missing.err;

    // A file where the folder of a recursive copy should go.
    write_file(farm.file("chroot/h001/run/conf"), "a file\n");
    std::filesystem::create_directories(farm.file("conf"));
    write_file(farm.file("conf/a.yaml"), "a: 1\n");
    auto clash = farm.run({"-w", "h001", "push", "-r", farm.file("conf"), "/run/"});
    EXPECT_EQ(clash.code, 1);
    EXPECT_NE(clash.err.find("cannot create the folder /run/conf: a file of that name is there"),
              std::string::npos)
        << clash.err;
}

} // namespace
} // namespace clusterctl::test_support
