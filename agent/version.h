#pragma once
namespace coroot::agent {
inline constexpr const char* kVersion = "0.1.0";
}
