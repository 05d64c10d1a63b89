package conf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Validate checks every value and their combinations, the way KafkaConfig's validateValues
// does, plus what klassik does not support (generated broker ids, JKS keystores, GSSAPI). It
// reports every problem it finds, one per line.
func (c *Config) Validate() error {
	var errs []error
	bad := map[string]bool{}
	for _, p := range table {
		if p.field == nil || p.check == nil {
			continue
		}
		v := p.get(c)
		if msg := p.check(v); msg != "" {
			errs = append(errs, &valueError{key: p.name, value: formatValue(v), msg: msg})
			bad[p.name] = true
		}
	}
	errs = append(errs, c.checkListeners(bad)...)
	if c.ReplicaFetchWaitMaxMs > c.ReplicaSocketTimeoutMs {
		errs = append(errs, &valueError{key: "replica.fetch.wait.max.ms", value: strconv.Itoa(c.ReplicaFetchWaitMaxMs),
			msg: fmt.Sprintf("must be at most replica.socket.timeout.ms (%d), or followers' fetches time out while they wait", c.ReplicaSocketTimeoutMs)})
	}
	if int64(c.ReplicaFetchWaitMaxMs) > c.ReplicaLagTimeMaxMs {
		errs = append(errs, &valueError{key: "replica.fetch.wait.max.ms", value: strconv.Itoa(c.ReplicaFetchWaitMaxMs),
			msg: fmt.Sprintf("must be at most replica.lag.time.max.ms (%d), or followers drop out of the ISR while they wait", c.ReplicaLagTimeMaxMs)})
	}
	if c.LogCleanerMinCompactionLagMs > c.LogCleanerMaxCompactionLagMs {
		// Kafka's LogConfig.validateBrokerLogConfigValues refuses to start with this.
		errs = append(errs, &valueError{key: "log.cleaner.min.compaction.lag.ms", value: strconv.FormatInt(c.LogCleanerMinCompactionLagMs, 10),
			msg: fmt.Sprintf("must be at most log.cleaner.max.compaction.lag.ms (%d)", c.LogCleanerMaxCompactionLagMs)})
	}
	if c.GroupMinSessionTimeoutMs > c.GroupMaxSessionTimeoutMs {
		errs = append(errs, &valueError{key: "group.min.session.timeout.ms", value: strconv.Itoa(c.GroupMinSessionTimeoutMs),
			msg: fmt.Sprintf("must be at most group.max.session.timeout.ms (%d)", c.GroupMaxSessionTimeoutMs)})
	}
	return errors.Join(errs...)
}

// checkListeners checks listeners, advertised.listeners, listener.security.protocol.map and
// inter.broker.listener.name together; a value already found bad on its own is skipped.
func (c *Config) checkListeners(bad map[string]bool) []error {
	if bad["listeners"] || bad["advertised.listeners"] || bad["listener.security.protocol.map"] {
		return nil
	}
	var errs []error
	lerr := func(msg string) {
		errs = append(errs, &valueError{key: "listeners", value: strconv.Quote(c.Listeners), msg: msg})
	}
	ls, _ := parseListenerList(c.Listeners)
	protocols, _ := parseProtocolMap(c.ListenerSecurityProtocolMap)
	for i, l := range ls {
		if _, ok := protocols[l.Name]; !ok {
			lerr(fmt.Sprintf("listener %s has no security protocol in listener.security.protocol.map (%q); add %s:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL) to it", l.Name, c.ListenerSecurityProtocolMap, l.Name))
		}
		for _, o := range ls[:i] {
			if l.Port != 0 && l.Port == o.Port && (l.Host == o.Host || isWildcard(l.Host) || isWildcard(o.Host)) {
				lerr(fmt.Sprintf("listeners %s and %s both bind port %d; each listener needs its own port", o.Name, l.Name, l.Port))
			}
		}
	}

	key, value := c.effectiveAdvertised()
	adv, _ := parseListenerList(value)
	if key == "listeners" {
		if err := checkRoutable(adv, key); err != nil {
			lerr(err.Error())
		}
	} else {
		names := map[string]bool{}
		for _, l := range ls {
			names[l.Name] = true
		}
		for _, a := range adv {
			if !names[a.Name] {
				errs = append(errs, &valueError{key: "advertised.listeners", value: strconv.Quote(c.AdvertisedListeners),
					msg: fmt.Sprintf("listener %s is not one of listeners (%s); advertised listener names must be among them", a.Name, listenerNames(ls))})
			}
		}
	}

	errs = append(errs, c.checkOverrides(ls)...)
	errs = append(errs, c.checkSecurity(ls, adv)...)
	if ib := strings.TrimSpace(c.InterBrokerListenerName); ib != "" && len(adv) > 0 {
		found := false
		for _, a := range adv {
			found = found || strings.EqualFold(a.Name, ib)
		}
		if !found {
			where := "advertised.listeners"
			if key == "listeners" {
				where = "listeners (advertised.listeners is not set)"
			}
			errs = append(errs, &valueError{key: "inter.broker.listener.name", value: strconv.Quote(c.InterBrokerListenerName),
				msg: fmt.Sprintf("must be the name of one of %s: %s", where, listenerNames(adv))})
		}
	}
	return errs
}

func isWildcard(host string) bool { return host == "" || host == "0.0.0.0" || host == "::" }
