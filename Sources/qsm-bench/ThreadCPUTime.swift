import Foundation

/// CPU time of the calling thread, in seconds: on a machine shared with other builds, wall time says
/// more about the neighbours than about the code.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
