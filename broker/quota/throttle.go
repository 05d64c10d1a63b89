package quota

import "math"

// ThrottleTimeMs is QuotaUtils.throttleTime: how long to delay a client observed at rate
// observed against a quota bound over a window of windowMs so that, if it recorded nothing
// more, its rate would come back to the bound: X = (O - T) / T * W, rounded. It is 0 (or
// negative) when observed is within the bound. A bound that is not positive throttles
// nothing (no such quota can be set; see ValidValue).
func ThrottleTimeMs(observed, bound float64, windowMs int64) int64 {
	if !(bound > 0) || math.IsInf(bound, 1) {
		return 0
	}
	x := (observed - bound) / bound * float64(windowMs)
	if math.IsNaN(x) {
		return 0
	}
	if x >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(math.Round(x))
}

// BoundedThrottleTimeMs is QuotaUtils.boundedThrottleTime: ThrottleTimeMs, at most maxMs.
func BoundedThrottleTimeMs(observed, bound float64, windowMs, maxMs int64) int64 {
	return min(ThrottleTimeMs(observed, bound, windowMs), maxMs)
}
