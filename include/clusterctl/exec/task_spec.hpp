#pragma once
// What one host is asked to do in one stage, as a transport receives it: a script for the
// remote wrapper, files to push, a folder to fetch. One type per plan::StageKind; adding a
// stage kind is one type here, one case in task_for() and one in each transport's start().

#include "clusterctl/config/secrets.hpp"
#include "clusterctl/plan/launch_plan.hpp"

#include <string>
#include <variant>
#include <vector>

namespace clusterctl::exec {

// A script for the remote wrapper, its secrets filled in; the wrapper's stdin is
// input(): the script and the grace period framed.
struct RunTask {
    std::string script;
    int grace_s = 10;
    bool fail_fast = false; // the stage stops every host when one fails
    std::string input() const;
};
struct PushTask {
    std::vector<plan::FileTransfer> files;
};
struct FetchTask {
    plan::FileTransfer folder;
};
using TaskSpec = std::variant<RunTask, PushTask, FetchTask>;

// The task of `stage` for one host. A script's secrets are filled in here, in memory, on
// their way to the wrapper's stdin: nowhere else do they appear in a script.
TaskSpec task_for(const plan::Stage& stage, const plan::Task& task,
                  const config::SecretStore& secrets, int grace_s);

} // namespace clusterctl::exec
