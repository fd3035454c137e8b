package openai

import (
	"fmt"
	"time"

	"github.com/duet-company/ops-skill/internal/llm/provider"
)

// checkRetired refuses a model its provider has retired by now (requests to
// it fail on every alert), naming the replacement. A custom base URL may
// serve any name, so it is not checked.
func checkRetired(s settings, now time.Time) error {
	if s.customURL {
		return nil
	}
	if err := provider.CheckRetired(provider.Name(s.provider), s.model, now); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}
