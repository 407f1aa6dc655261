package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"yanzhen/models"
	"yanzhen/msg"
)

// WatchEvery is how often the watched folder (tickets.watch_dir) is looked at.
const WatchEvery = 5 * time.Minute

// prepareWatch imports the new exports of the watched folder, each once,
// telling the 12345 office (else the admins) each outcome by app message,
// with the import's record. The imports are done here, before the run's
// transaction, each in its own: the messages go with them.
func prepareWatch(ctx context.Context, e *Env, r Run) (Plan, error) {
	dir := e.Config.Tickets.WatchDir
	if dir == "" || e.Tickets == nil {
		return send(nil, "未配置共享目录（tickets.watch_dir）"), nil
	}
	d, err := e.Store.Directory(ctx)
	if err != nil {
		return Plan{}, err
	}
	var tell *msg.Audience
	to := d.WithRole(models.RoleHotline)
	if len(to) == 0 {
		to = d.WithRole(models.RoleAdmin)
	}
	if len(to) > 0 {
		ids := make([]string, len(to))
		for i, m := range to {
			ids[i] = m.UserID
		}
		a := msg.ToMembers(ids...)
		tell = &a
	}
	files, err := e.Tickets.ImportFolder(ctx, dir, r.Now, tell)
	var done []string
	for _, f := range files {
		state := "已导入"
		if f.Err != nil {
			state = "未能导入"
		}
		done = append(done, f.Name+state)
		e.Log.Info("watched file imported", zap.String("file", f.Name), zap.Bool("ok", f.Err == nil), zap.NamedError("refused", f.Err))
	}
	if err != nil {
		return Plan{}, err
	}
	if len(done) == 0 {
		return send(nil, "共享目录无新文件"), nil
	}
	return send(nil, fmt.Sprintf("共享目录：%s", strings.Join(done, "、"))), nil
}
