#pragma once
// The config's after: steps (a checkpoint merged on the first node, an upload), run on a
// job's nodes once its training has succeeded: by an attached `train`, or by the
// supervisor of a detached job. Private to cli/.

#include "clusterctl/report/job_record.hpp"
#include "context.hpp"

#include <optional>
#include <string>
#include <vector>

namespace clusterctl::cli {

struct AfterStepsEnd {
    int exit_code = 0; // 0: every step passed on every host it ran on
    std::optional<report::JobRecord::FirstFailure> first_failure;
};

// Runs them on `nodes` (node rank 0 first), their logs in `log_dir` ("" for
// ~/.clusterctl/logs/JOB/after). Nothing when the config has no after: steps.
std::optional<AfterStepsEnd> run_after_steps(Context& ctx, const std::string& job_id,
                                             const std::vector<std::string>& nodes,
                                             const std::string& log_dir);

} // namespace clusterctl::cli
