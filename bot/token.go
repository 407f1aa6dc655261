package bot

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/silenceper/wechat/v2/credential"

	"yanzhen/models"
)

// tokenStore keeps the access token where every replica finds it.
type tokenStore interface {
	GetKV(ctx context.Context, key string) (*models.KV, error)
	PutKV(ctx context.Context, key, value string, expiresAt *time.Time) error
	DeleteKV(ctx context.Context, key, value string) (bool, error)
}

// tokenFetcher asks WeCom for an access token and its lifetime.
type tokenFetcher func(ctx context.Context) (token string, ttl time.Duration, err error)

// tokenSource hands out the app's access token. The token is kept in the
// store, so replicas share one instead of each fetching its own, and in
// memory, so most calls touch neither. It is refreshed ahead of expiry, at
// half its remaining life but no earlier than five minutes before it ends;
// Invalidate drops a token WeCom refused (40014, 42001). Within a process
// one fetch runs at a time and the others wait for its result. tokenSource
// implements credential.AccessTokenContextHandle, so silenceper/wechat
// clients can take it in place of their own cache, which never refreshes on
// those errcodes.
type tokenSource struct {
	store tokenStore
	fetch tokenFetcher
	now   func() time.Time
	key   string

	sem       chan struct{} // held while reading or refreshing the token
	token     string
	refreshAt time.Time
}

var _ credential.AccessTokenContextHandle = (*tokenSource)(nil)

// refreshMargin is how long before its end a token is replaced, at most.
const refreshMargin = 5 * time.Minute

func newTokenSource(store tokenStore, fetch tokenFetcher, now func() time.Time, corpID string, agentID int64) *tokenSource {
	return &tokenSource{
		store: store, fetch: fetch, now: now,
		key: "wecom/access_token/" + corpID + "/" + strconv.FormatInt(agentID, 10),
		sem: make(chan struct{}, 1),
	}
}

// Token returns a valid access token: from memory, else from the store,
// else fetched from WeCom and stored for the other replicas.
func (t *tokenSource) Token(ctx context.Context) (string, error) {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("access token: %w", ctx.Err())
	}
	defer func() { <-t.sem }()
	now := t.now()
	if t.token != "" && now.Before(t.refreshAt) {
		return t.token, nil
	}
	kv, err := t.store.GetKV(ctx, t.key)
	switch {
	case err == nil && kv.ExpiresAt != nil && now.Before(*kv.ExpiresAt):
		t.token, t.refreshAt = kv.Value, *kv.ExpiresAt
		return t.token, nil
	case err != nil && models.ErrorCode(err) != models.ENOTFOUND:
		return "", fmt.Errorf("access token: %w", err)
	}
	tok, ttl, err := t.fetch(ctx)
	if err != nil {
		return "", fmt.Errorf("access token: %w", err)
	}
	refreshAt := now.Add(ttl - min(refreshMargin, ttl/2))
	if err := t.store.PutKV(ctx, t.key, tok, &refreshAt); err != nil {
		return "", fmt.Errorf("access token: %w", err)
	}
	t.token, t.refreshAt = tok, refreshAt
	return tok, nil
}

// Invalidate drops tok, which WeCom refused, here and in the store, unless
// another replica has already stored a newer token.
func (t *tokenSource) Invalidate(ctx context.Context, tok string) error {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("drop access token: %w", ctx.Err())
	}
	defer func() { <-t.sem }()
	if t.token == tok {
		t.token, t.refreshAt = "", time.Time{}
	}
	if _, err := t.store.DeleteKV(ctx, t.key, tok); err != nil {
		return fmt.Errorf("drop access token: %w", err)
	}
	return nil
}

// GetAccessTokenContext implements credential.AccessTokenContextHandle.
func (t *tokenSource) GetAccessTokenContext(ctx context.Context) (string, error) {
	return t.Token(ctx)
}

// GetAccessToken implements credential.AccessTokenHandle, without a deadline
// beyond the HTTP client's own.
func (t *tokenSource) GetAccessToken() (string, error) {
	return t.Token(context.Background())
}
