#pragma once
// Plain request/response values that handlers and the client exchange (no Beast types leak out).
#include <string>
#include <utility>
#include <vector>

namespace coroot::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; empty when absent.
std::string FindHeader(const Headers& headers, const std::string& name);

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path + "?" + query, as received
  std::string path;    // decoded path without the query
  std::string query;   // raw query string, without '?'
  Headers headers;
  std::string body;
  std::string remote_addr;

  std::string Header(const std::string& name) const { return FindHeader(headers, name); }
  // The first value of a query parameter (percent-decoded); empty when absent.
  std::string QueryParam(const std::string& name) const;
  // Every name=value pair of the query string, percent-decoded, in order.
  std::vector<std::pair<std::string, std::string>> QueryParams() const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  void SetHeader(const std::string& name, const std::string& value);
  std::string Header(const std::string& name) const { return FindHeader(headers, name); }
  static Response Text(int status, std::string body);
  static Response Json(int status, std::string body);
};

std::string PercentDecode(const std::string& s);
std::string PercentEncode(const std::string& s);

}  // namespace coroot::http
