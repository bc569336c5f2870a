#pragma once
// A detached job's logs from every node as one story: each node stamps its lines with the
// time they were written ("SECONDS.MICROSECONDS LINE", plan/detached_job.cpp), and here the
// nodes' lines, as the run showed them ("NODE: STAMP LINE"), are merged by those stamps,
// each node's own order kept, the stamps taken off.

#include <string>
#include <string_view>

namespace clusterctl::output {

// `last` >= 0: only the last that many lines of the merge.
std::string merge_stamped_logs(std::string_view prefixed, int last = -1);

} // namespace clusterctl::output
