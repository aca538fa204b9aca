#pragma once
namespace coroot::server {
inline constexpr const char* kVersion = "0.1.0";
}
