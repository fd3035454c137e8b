package httpx

import (
	"errors"
	"net/url"
)

// ErrNotHTTPURL is a base URL that is not an absolute http or https URL.
var ErrNotHTTPURL = errors.New("not an absolute http or https URL")

// URLSecrets checks that raw is an absolute http(s) URL and returns the
// credentials it carries (user and password), which must never be printed.
func URLSecrets(raw string) ([]string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ErrNotHTTPURL
	}
	var secrets []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p)
		}
		if name := u.User.Username(); name != "" {
			secrets = append(secrets, name)
		}
	}
	return secrets, nil
}
