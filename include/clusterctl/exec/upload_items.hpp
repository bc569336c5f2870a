#pragma once
// A plan's FileTransfers as the list of directories and files an SFTP upload writes:
// a recursive copy is walked here, on the local side, once per task.

#include "clusterctl/plan/launch_plan.hpp"
#include "clusterctl/ssh/sftp_upload.hpp"
#include "clusterctl/util/result.hpp"

#include <vector>

namespace clusterctl::exec {

// Remote paths starting with "~/" are made relative: SFTP starts in the login directory.
util::Result<std::vector<ssh::UploadItem>>
upload_items(const std::vector<plan::FileTransfer>& transfers);

} // namespace clusterctl::exec
