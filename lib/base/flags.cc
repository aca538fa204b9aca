#include "lib/base/flags.h"

#include <cctype>
#include <cstdlib>
#include <sstream>

#include "lib/base/strings.h"

namespace coroot {

StatusOr<Duration> ParseDuration(const std::string& in) {
  std::string s = Trim(in);
  if (s.empty()) return InvalidArgument("empty duration");
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits) {
    if (s.size() > 12) return InvalidArgument("duration out of range: " + in);
    return Duration(std::stoll(s) * 1000);
  }
  double total_ms = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) i++;
    if (start == i) return InvalidArgument("bad duration: " + in);
    std::string num = s.substr(start, i - start);
    if (num.size() > 15) return InvalidArgument("duration out of range: " + in);
    double v = std::strtod(num.c_str(), nullptr);
    size_t ustart = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) i++;
    std::string unit = s.substr(ustart, i - ustart);
    double mult;
    if (unit == "ms") mult = 1;
    else if (unit == "s") mult = 1e3;
    else if (unit == "m") mult = 60e3;
    else if (unit == "h") mult = 3600e3;
    else if (unit == "d") mult = 86400e3;
    else if (unit == "w") mult = 7 * 86400e3;
    else if (unit == "y") mult = 365 * 86400e3;
    else return InvalidArgument("bad duration unit '" + unit + "' in " + in);
    total_ms += v * mult;
  }
  if (total_ms > 1e15) return InvalidArgument("duration out of range: " + in);
  return Duration(static_cast<int64_t>(total_ms));
}

StatusOr<uint64_t> ParseByteSize(const std::string& in) {
  std::string s = Trim(in);
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) i++;
  if (i == 0 || i > 15) return InvalidArgument("bad byte size: " + in);
  double v = std::strtod(s.substr(0, i).c_str(), nullptr);
  std::string unit = ToLower(Trim(s.substr(i)));
  double mult;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib") mult = 1024.0 * 1024 * 1024 * 1024;
  else return InvalidArgument("bad byte size unit '" + unit + "' in " + in);
  return static_cast<uint64_t>(v * mult);
}

void FlagSet::Add(Flag f) { flags_.push_back(std::move(f)); }

FlagSet::Flag* FlagSet::Find(const std::string& name) {
  for (auto& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

void FlagSet::String(const std::string& name, const std::string& env, std::string* target, const std::string& def,
                     const std::string& help) {
  *target = def;
  Add({name, env, def, help, false, false, [target](const std::string& v) {
         *target = v;
         return Status::Ok();
       }});
}

void FlagSet::Strings(const std::string& name, const std::string& env, std::vector<std::string>* target,
                      const std::string& help) {
  target->clear();
  Add({name, env, "", help, false, true, [target](const std::string& v) {
         target->push_back(v);
         return Status::Ok();
       }});
}

void FlagSet::Bool(const std::string& name, const std::string& env, bool* target, bool def,
                   const std::string& help) {
  *target = def;
  Add({name, env, def ? "true" : "false", help, true, false, [target, name](const std::string& v) {
         std::string l = ToLower(v);
         if (l == "true" || l == "1" || l == "yes" || l == "on") *target = true;
         else if (l == "false" || l == "0" || l == "no" || l == "off") *target = false;
         else return InvalidArgument("--" + name + ": not a boolean: " + v);
         return Status::Ok();
       }});
}

void FlagSet::Int(const std::string& name, const std::string& env, int64_t* target, int64_t def,
                  const std::string& help) {
  *target = def;
  Add({name, env, std::to_string(def), help, false, false, [target, name](const std::string& v) {
         char* end = nullptr;
         long long x = std::strtoll(v.c_str(), &end, 10);
         if (v.empty() || *end != '\0') return InvalidArgument("--" + name + ": not an integer: " + v);
         *target = x;
         return Status::Ok();
       }});
}

void FlagSet::Double(const std::string& name, const std::string& env, double* target, double def,
                     const std::string& help) {
  *target = def;
  std::ostringstream d;
  d << def;
  Add({name, env, d.str(), help, false, false, [target, name](const std::string& v) {
         char* end = nullptr;
         double x = std::strtod(v.c_str(), &end);
         if (v.empty() || *end != '\0') return InvalidArgument("--" + name + ": not a number: " + v);
         *target = x;
         return Status::Ok();
       }});
}

void FlagSet::Dur(const std::string& name, const std::string& env, Duration* target, const std::string& def,
                  const std::string& help) {
  auto set = [target, name](const std::string& v) -> Status {
    auto d = ParseDuration(v);
    if (!d.ok()) return d.status().WithContext("--" + name);
    *target = *d;
    return Status::Ok();
  };
  (void)set(def);
  Add({name, env, def, help, false, false, set});
}

void FlagSet::Bytes(const std::string& name, const std::string& env, uint64_t* target, const std::string& def,
                    const std::string& help) {
  auto set = [target, name](const std::string& v) -> Status {
    auto b = ParseByteSize(v);
    if (!b.ok()) return b.status().WithContext("--" + name);
    *target = *b;
    return Status::Ok();
  };
  (void)set(def);
  Add({name, env, def, help, false, false, set});
}

Status FlagSet::Parse(int argc, const char* const* argv, bool* help_requested) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return Parse(args, [](const char* k) { return std::getenv(k); }, help_requested);
}

Status FlagSet::Parse(const std::vector<std::string>& args,
                      const std::function<const char*(const char*)>& getenv, bool* help_requested) {
  std::vector<bool> seen(flags_.size(), false);
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      if (help_requested) *help_requested = true;
      continue;
    }
    if (!StartsWith(a, "--")) return InvalidArgument("unexpected argument: " + a);
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    Flag* f = Find(name);
    if (!f && StartsWith(name, "no-")) {
      Flag* neg = Find(name.substr(3));
      if (neg && neg->is_bool && !has_value) {
        RETURN_IF_ERROR(neg->set("false"));
        seen[neg - flags_.data()] = true;
        continue;
      }
    }
    if (!f) return InvalidArgument("unknown flag: --" + name);
    if (!has_value) {
      if (f->is_bool) {
        value = "true";
      } else {
        if (i + 1 >= args.size()) return InvalidArgument("flag --" + name + " needs a value");
        value = args[++i];
      }
    }
    RETURN_IF_ERROR(f->set(value));
    seen[f - flags_.data()] = true;
  }
  for (size_t i = 0; i < flags_.size(); i++) {
    if (seen[i] || flags_[i].env.empty()) continue;
    const char* v = getenv(flags_[i].env.c_str());
    if (!v) continue;
    if (flags_[i].repeatable) {
      for (const auto& part : SplitAny(v, ", \n"))
        if (!part.empty()) RETURN_IF_ERROR(flags_[i].set(part));
    } else {
      RETURN_IF_ERROR(flags_[i].set(v).WithContext("env " + flags_[i].env));
    }
  }
  return Status::Ok();
}

std::string FlagSet::Usage() const {
  std::ostringstream out;
  out << "usage: " << program_ << " [flags]\n\nflags:\n";
  for (const auto& f : flags_) {
    out << "  --" << f.name << (f.is_bool ? "" : "=VALUE");
    if (!f.env.empty()) out << "  ($" << f.env << ")";
    out << "\n      " << f.help;
    if (!f.def.empty()) out << " (default " << f.def << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace coroot
