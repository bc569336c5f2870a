#include "clusterctl/exec/task_spec.hpp"

#include "clusterctl/exec/remote_wrapper.hpp"

namespace clusterctl::exec {

TaskSpec task_for(const plan::Stage& stage, const plan::Task& task,
                  const config::SecretStore& secrets, int grace_s) {
    switch (stage.kind) {
    case plan::StageKind::fetch:
        return FetchTask{task.files.front()};
    case plan::StageKind::push:
        return PushTask{task.files};
    case plan::StageKind::run:
        break;
    }
    std::string script = plan::render_script(task.command, [&](std::string_view name) {
        const std::string* value = secrets.find(name);
        return value ? *value : std::string();
    });
    return RunTask{std::move(script), grace_s, stage.fail_fast};
}

std::string RunTask::input() const {
    return wrapper_input(script, grace_s);
}

} // namespace clusterctl::exec
