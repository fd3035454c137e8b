package scripted

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// promptCache prices a request's input as the API's prompt cache does in
// principle (platform.claude.com/docs/en/build-with-claude/prompt-caching):
//
//   - The prompt is tools, then system, then messages, cut into blocks (each
//     tool, each system block, each message block); a block counts one token
//     per four characters of its canonical JSON, at least one.
//   - A cache_control marker is a breakpoint. An answered request writes the
//     prefix up to each breakpoint whose prefix is at least the minimum
//     cacheable length; entries live 5 minutes (or 1 hour with ttl "1h")
//     from their last use, on the server's clock.
//   - A request reads the longest cached prefix that ends at a breakpoint or
//     at one of the 20 blocks before it (the lookback); those tokens are
//     cache_read_input_tokens, the tokens from there to the last breakpoint
//     written are cache_creation_input_tokens, the rest input_tokens.
//   - The messages part is keyed by the thinking configuration too:
//     changing it invalidates cached messages, not tools or system.
type promptCache struct {
	clock     clock.Clock
	minTokens int

	mu      sync.Mutex
	entries map[string]time.Time // prefix hash → expiry
}

// lookback is how many blocks before a breakpoint the API checks for an
// earlier cache entry.
const lookback = 20

func newPromptCache(c clock.Clock, minTokens int) *promptCache {
	return &promptCache{clock: c, minTokens: minTokens, entries: map[string]time.Time{}}
}

// segment is one block of the prompt: its cumulative hash and tokens.
type segment struct {
	hash   string
	total  int // tokens up to and including this block
	ttl    time.Duration
	breaks bool
}

// segments cuts a request into blocks in prompt order.
func segments(req MessagesRequest) []segment {
	var out []segment
	h := sha256.New()
	total := 0
	add := func(v any, cc *WireCacheControl) {
		raw, _ := json.Marshal(v)
		h.Write(raw)
		total += tokens(len(raw))
		s := segment{hash: hex.EncodeToString(h.Sum(nil)), total: total}
		if cc != nil {
			s.breaks, s.ttl = true, 5*time.Minute
			if cc.TTL == "1h" {
				s.ttl = time.Hour
			}
		}
		out = append(out, s)
	}
	h.Write([]byte(req.Model))
	for _, t := range req.Tools {
		cc := t.CacheControl
		t.CacheControl = nil
		add(t, cc)
	}
	for _, b := range req.System {
		add(canonBlock(b), b.CacheControl)
	}
	h.Write([]byte(req.thinkingKey()))
	for _, m := range req.Messages {
		h.Write([]byte(m.Role))
		for _, b := range m.Content {
			add(canonBlock(b), b.CacheControl)
		}
	}
	if req.CacheControl != nil && len(out) > 0 {
		// Automatic caching: the breakpoint goes on the last block.
		out[len(out)-1].breaks, out[len(out)-1].ttl = true, 5*time.Minute
	}
	return out
}

// price reads and writes the cache for an answered request and returns its
// input usage.
func (c *promptCache) price(req MessagesRequest) MessagesUsage {
	segs := segments(req)
	if len(segs) == 0 {
		return MessagesUsage{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	read := 0
	for i, s := range segs {
		if !s.breaks {
			continue
		}
		for j := i; j >= 0 && j >= i-lookback; j-- {
			if exp, ok := c.entries[segs[j].hash]; ok && now.Before(exp) {
				read = max(read, segs[j].total)
				c.entries[segs[j].hash] = now.Add(s.ttl) // a hit refreshes the entry
				break
			}
		}
	}
	written := read
	for _, s := range segs {
		if s.breaks && s.total >= c.minTokens {
			if _, ok := c.entries[s.hash]; !ok || s.total > read {
				c.entries[s.hash] = now.Add(s.ttl)
			}
			written = max(written, s.total)
		}
	}
	all := segs[len(segs)-1].total
	return MessagesUsage{InputTokens: all - written, CacheReadInputTokens: read, CacheCreationInputTokens: written - read}
}
