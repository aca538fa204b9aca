#include "agent/containers/pvc.h"

namespace coroot::agent::containers {

std::string PvcName(std::string_view source) {
  for (size_t p = source.find("pvc-"); p != std::string_view::npos; p = source.find("pvc-", p + 1)) {
    if (p + 40 > source.size()) break;
    std::string_view uuid = source.substr(p + 4, 36);
    bool ok = true;
    for (size_t i = 0; i < uuid.size(); i++) {
      char c = uuid[i];
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      ok &= dash ? c == '-' : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }
    if (ok) return std::string(source.substr(p, 40));
  }
  return "";
}

}  // namespace coroot::agent::containers
