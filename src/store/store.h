// The storage interface. SQLite (embedded) and PostgreSQL (many nodes)
// implement it; nothing here may assume either.
//
// Thread-safety: every method may be called from any thread. Writes are
// serialised through one writer and committed in groups (concurrent callers
// share a commit); each call returns, or calls back, after its own commit.
// After a failed commit the store refuses every later write (it never carries
// on as if the data were safe).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/model.h"

namespace punt::store {

struct Status {
  enum class Code { kOk, kNotFound, kConflict, kFailed };
  Code code = Code::kOk;
  std::string message;

  bool ok() const { return code == Code::kOk; }
  static Status Ok() { return {}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Failed(std::string m) { return {Code::kFailed, std::move(m)}; }
};

using IngestCallback = std::function<void(IngestResult)>;

class Store {
 public:
  virtual ~Store() = default;

  // Organisations and their keys.
  virtual Status CreateOrg(const Org& org, const ApiKey& key) = 0;
  virtual std::optional<Org> GetOrg(const std::string& org_id) = 0;
  virtual Status UpdateOrg(const Org& org) = 0;
  virtual std::optional<ApiKey> FindApiKey(const std::string& hash) = 0;

  // Subscriptions, always within one organisation.
  virtual Status CreateSubscription(const Subscription& sub) = 0;
  virtual std::optional<Subscription> GetSubscription(const std::string& org_id,
                                                      const std::string& id) = 0;
  virtual std::vector<Subscription> ListSubscriptions(const std::string& org_id) = 0;
  // Disabling moves its pending and retrying deliveries to held; enabling
  // moves held deliveries back to pending.
  virtual Status UpdateSubscription(const Subscription& sub) = 0;
  // Removes the subscription and its deliveries.
  virtual Status DeleteSubscription(const std::string& org_id, const std::string& id) = 0;

  // Stores the events of one request, their bodies, and one delivery for each
  // matching subscription, all in one transaction: either all of the batch or
  // nothing. An event id the organisation already used is not stored again.
  // `done` runs on the writer thread after the commit; it must not block.
  virtual void Ingest(const std::string& org_id, std::vector<NewEvent> events,
                      IngestCallback done) = 0;

  // Deliveries, newest first is not promised: ordered by id ascending.
  virtual std::vector<Delivery> ListDeliveries(const DeliveryQuery& query) = 0;
  // With its attempts.
  virtual std::optional<Delivery> GetDelivery(const std::string& org_id, int64_t id) = 0;

  // Runs after every commit that made deliveries due (for the dispatcher).
  virtual void SetCommitListener(std::function<void()> listener) = 0;
};

}  // namespace punt::store
