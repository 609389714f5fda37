package throttle

import (
	"container/list"
	"time"
)

// limiter is a GCRA rate limiter (the "virtual scheduling" form of a token
// bucket) per key, over integer nanoseconds so that counts are exact. A
// key's whole state is its theoretical arrival time tat: an event at now
// passes when max(tat, now) + interval - now <= burst × interval, and then
// moves tat to that sum. Keys are kept in LRU order and the least recently
// used is forgotten beyond maxKeys; a forgotten key starts with a full
// burst, which errs on the side of passing events.
type limiter struct {
	interval int64 // window / threshold
	limit    int64 // burst × interval
	maxKeys  int

	single int64                    // tat when there is no key
	keys   map[string]*list.Element // of *entry
	lru    list.List                // front: most recently used
	evict  func()
}

type entry struct {
	key string
	tat int64
}

func newLimiter(threshold, burst, maxKeys int, window time.Duration, evict func()) *limiter {
	iv := int64(window) / int64(threshold)
	return &limiter{interval: iv, limit: int64(burst) * iv, maxKeys: maxKeys,
		keys: map[string]*list.Element{}, evict: evict}
}

// allow decides one event of key at now (ns).
func (l *limiter) allow(now int64, tat *int64) bool {
	t := max(*tat, now) + l.interval
	if t-now > l.limit {
		return false
	}
	*tat = t
	return true
}

// allowKey decides one event of a key; the key is copied only when new.
func (l *limiter) allowKey(now int64, key []byte) bool {
	el, ok := l.keys[string(key)] // no allocation: a lookup
	if ok {
		l.lru.MoveToFront(el)
	} else {
		if len(l.keys) >= l.maxKeys {
			old := l.lru.Back()
			delete(l.keys, old.Value.(*entry).key)
			l.lru.Remove(old)
			l.evict()
		}
		k := string(key)
		el = l.lru.PushFront(&entry{key: k, tat: now})
		l.keys[k] = el
	}
	return l.allow(now, &el.Value.(*entry).tat)
}
