// Live controls shared between a running trainer and whoever steers it (GUI, tests): atomics
// the trainer pulls at batch boundaries, so no thread ever waits on training to change them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace sq {

class Controls {
public:
    // A live value and a version number, so the trainer can tell "the user changed it" (which
    // overrides a schedule and is recorded in the run history) from "still the configured value".
    class Knob {
    public:
        void set(double value)
        {
            value_.store(value, std::memory_order_relaxed);
            version_.fetch_add(1, std::memory_order_release);
        }
        double value() const { return value_.load(std::memory_order_relaxed); }
        std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

    private:
        std::atomic<double> value_{0.0};
        std::atomic<std::uint64_t> version_{0};
    };

    Knob lambda;
    Knob gamma;
    Knob learningRate;
    Knob mu; // CPQ's memory pressure

    void pause() { setPaused(true); }
    void resume() { setPaused(false); }
    bool paused() const { return paused_.load(std::memory_order_acquire); }

    void requestStop()
    {
        stop_.store(true, std::memory_order_release);
        wakeUp();
    }
    bool stopRequested() const { return stop_.load(std::memory_order_acquire); }

    // Blocks the training thread while paused; returns at once when running or asked to stop.
    void waitWhilePaused()
    {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return !paused() || stopRequested(); });
    }

private:
    void setPaused(bool paused)
    {
        paused_.store(paused, std::memory_order_release);
        wakeUp();
    }
    void wakeUp()
    {
        // Taking the lock orders the store before a waiter's predicate check: no lost wake-up.
        { std::lock_guard lock(mutex_); }
        wake_.notify_all();
    }

    std::atomic<bool> paused_{false};
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
};

} // namespace sq
