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
// memory, so most calls touch neither. In the store it is encrypted
// (AES-256-GCM) with a key derived by HKDF from the corp secret: every
// replica configured with that secret reads it, and a copy of the database
// alone does not give it away. (WeCom hands out the same token to repeated
// gettoken calls while it is valid, so keeping it only in memory would work
// too; sharing it keeps the single fetch, and a refresh after 40014 seen by
// one replica, for all.) A stored token that does not decrypt (the secret
// was changed) is fetched anew. It is refreshed ahead of expiry, at
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
	box   *sealBox

	sem       chan struct{} // held while reading or refreshing the token
	token     string
	refreshAt time.Time
}

var _ credential.AccessTokenContextHandle = (*tokenSource)(nil)

// refreshMargin is how long before its end a token is replaced, at most.
const refreshMargin = 5 * time.Minute

// newTokenSource returns the token source of the app agentID of corpID,
// whose stored token is encrypted with a key derived from secret.
func newTokenSource(store tokenStore, fetch tokenFetcher, now func() time.Time, corpID string, agentID int64, secret string) *tokenSource {
	key := "wecom/access_token/" + corpID + "/" + strconv.FormatInt(agentID, 10)
	return &tokenSource{
		store: store, fetch: fetch, now: now, key: key, box: newSealBox(secret, key),
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
		if tok, err := t.box.open(kv.Value); err == nil {
			t.token, t.refreshAt = tok, *kv.ExpiresAt
			return t.token, nil
		}
	case err != nil && models.ErrorCode(err) != models.ENOTFOUND:
		return "", fmt.Errorf("access token: %w", err)
	}
	tok, ttl, err := t.fetch(ctx)
	if err != nil {
		return "", fmt.Errorf("access token: %w", err)
	}
	refreshAt := now.Add(ttl - min(refreshMargin, ttl/2))
	if err := t.store.PutKV(ctx, t.key, t.box.seal(tok), &refreshAt); err != nil {
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
	if _, err := t.store.DeleteKV(ctx, t.key, t.box.seal(tok)); err != nil {
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
