// ServiceSet: shared, read-only resources built once per configuration
// (compiled YARA rules, URL blocklists, ...), looked up by type. A reload
// builds a new set aside; scans in flight keep the one they started with.
// Trusted input: the configuration.
#pragma once

#include <memory>
#include <typeindex>
#include <unordered_map>

namespace emogate {

class ServiceSet {
 public:
  template <class T>
  void put(std::shared_ptr<const T> svc) {
    items_[std::type_index(typeid(T))] = std::move(svc);
  }
  template <class T>
  const T* get() const {
    auto it = items_.find(std::type_index(typeid(T)));
    return it == items_.end() ? nullptr : static_cast<const T*>(it->second.get());
  }

 private:
  std::unordered_map<std::type_index, std::shared_ptr<const void>> items_;
};

}  // namespace emogate
