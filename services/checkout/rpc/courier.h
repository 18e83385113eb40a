// One thread that delivers what a service has written down for another service, batch by batch,
// until nothing is left: woken after each write that adds to it, backing off while the other
// service cannot be reached. What it delivers, and how, is the subclass's SendBatch.
#ifndef PERKS_SERVICES_CHECKOUT_RPC_COURIER_H_
#define PERKS_SERVICES_CHECKOUT_RPC_COURIER_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace perks::checkout {

class Courier {
 public:
  // `what` names it in the log: "<what>_unreachable" while it fails, "<what>_reachable" after.
  explicit Courier(std::string what);
  virtual ~Courier();  // a subclass calls Stop() in its own destructor
  Courier(const Courier&) = delete;
  Courier& operator=(const Courier&) = delete;

  // After a write that adds to what is to be delivered is durable: look again.
  void Wake();
  // Waits until nothing is left to deliver; false if something is left after `timeout`.
  bool WaitDelivered(absl::Duration timeout);
  // Stops the thread (cancelling a call under way); what is undelivered stays for the next
  // start. Idempotent.
  void Stop();
  uint64_t delivered() const;

 protected:
  // Starts the thread (once; not after Stop).
  void Start();
  // Delivers one batch: how many items it delivered (0: nothing left), or why it could not.
  virtual absl::StatusOr<size_t> SendBatch() = 0;
  // Around each call in SendBatch: Stop cancels the call under way. BeginCall is false once
  // stopping (then make no call).
  bool BeginCall(grpc::ClientContext* ctx);
  void EndCall();
  void CountDelivered(size_t n);

 private:
  void Loop();

  const std::string what_;
  mutable std::mutex mu_;
  std::condition_variable wake_, drained_cv_;
  bool woken_ = true;  // look once on start: a stop may have left something
  bool drained_ = false;
  bool stopping_ = false;
  grpc::ClientContext* sending_ = nullptr;
  uint64_t delivered_ = 0;
  std::thread thread_;
};

}  // namespace perks::checkout

#endif  // PERKS_SERVICES_CHECKOUT_RPC_COURIER_H_
