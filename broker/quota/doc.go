// Package quota is klassik's client quotas: the counterpart of Kafka's ClientQuotaManager
// (with its DefaultQuotaCallback), ClientRequestQuotaManager, the metrics library's Sensor,
// Rate and SampledStat that they measure with, and QuotaUtils' throttle-time formula.
//
// In the classic architecture every broker enforces quotas on its own: a client's produced
// bytes, fetched bytes and request-handler time are measured per quota entity over a sliding
// window, and a client over its quota is not refused but slowed down. The broker answers at
// once with throttle_time_ms set and then stops reading that connection for that long
// (KIP-219), so the client's rate falls back to its quota.
//
// # Measuring
//
// A Rate keeps quota.window.num samples (11) of quota.window.size.seconds (1 s) each:
//
//	samples (a ring):   [ s0 | s1 | s2 | ... | s10 ]      each: window start, sum, count
//	                                 ^ current
//	record(v, now):     the current sample takes v, unless it is a full window old; then
//	                    the next one in the ring is reset to start at now and takes it
//	purge(now):         a sample that started num*size ago or more is reset (to 0, at now)
//	window(now):        now - start of the oldest sample, but at least (num-1) full windows
//	rate(now):          sum of every sample / window(now) in seconds
//
// Taking at least num-1 windows keeps a client's first burst from looking like an infinite
// rate: ten seconds' worth of quota may be used at once.
//
// # Throttling
//
// A record is made first and checked after (Kafka's Sensor.record with a quota): if the rate
// is now above the quota bound T at the observed rate O, the client is throttled for
//
//	X = (O - T) / T * W    (W the window above)
//
// the delay that brings O*W/(W+X) back to T if nothing more were recorded
// (ClientQuotaManager.throttleTime). Request-time quotas bound X by one window
// (ClientRequestQuotaManager's boundedThrottleTime); byte-rate quotas, unbounded in Kafka,
// are bounded here by the whole sampled span (num*size): past it every recorded sample has
// expired anyway, so a longer throttle would only punish one huge request twice.
//
// # Entities
//
// A quota is set for a user, a client id, or a (user, client id) pair, each with a default
// (ZooKeeper's /config/users/<u>, /config/clients/<c>, /config/users/<u>/clients/<c> and
// their <default>s). Which one applies to a connection follows Kafka's DefaultQuotaCallback
// (Manager.Limit); the sensors that measure are keyed by the metric tags the callback picks,
// so that, with only client-id quotas set, every connection of one client id shares one
// measure whatever its user. Sensors idle for an hour are dropped, as Kafka's are, and their
// number is capped (a flood of client ids cannot grow memory without bound): past the cap the
// sensor idle longest is dropped.
package quota
