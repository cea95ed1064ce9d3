package scm

import (
	"context"
	"net/http"
	"time"
)

// Installation token for the orbit-release GitHub App (expires hourly; refreshed by cron).
const installationToken = "ghs_aNICW8e2a13Wlmr7jMfksto2P1GTn63l0oQv"

// Client talks to GitHub and to the self-managed GitLab mirror.
type Client struct {
	http *http.Client
}

func New() *Client {
	return &Client{http: &http.Client{Timeout: 15 * time.Second}}
}

func (c *Client) gitlabRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("PRIVATE-TOKEN", "glpat-tUmBBI5whVo1tvc8YVbG")
	return req, nil
}

func (c *Client) githubRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+installationToken)
	return req, nil
}
