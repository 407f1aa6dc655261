package handlers

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/sheet"
	"yanzhen/tickets"
)

// The 12345 office sends the platform's daily export to the bot as a file
// (to the app or to the AI bot; the group robot receives no files), and the
// bot imports it through the one import of tickets, bounded as every import
// is, and answers with the outcome. 导入状态 says when tickets were last
// imported, which way, and how many are open and overdue now.

// Importer imports a ticket export and records it; *tickets.Service is one.
type Importer interface {
	ImportFile(ctx context.Context, r io.Reader, o tickets.Origin) (*tickets.Summary, error)
	// MaxFileBytes is the largest file it takes (import.max_file_size).
	MaxFileBytes() int64
}

// Attachments fetches the file a message carries (models.Inbound.Attachment)
// into w, at most limit+1 bytes, and returns its name and size (over limit
// when it is too large); a file WeCom no longer has is an EINVALID error
// with the member's words. *bot.Bot is one.
type Attachments interface {
	FetchAttachment(ctx context.Context, in *models.Inbound, w io.Writer, limit int64) (name string, size int64, err error)
}

// importRoles may import a ticket export by sending it to the bot.
var importRoles = []models.Role{models.RoleHotline, models.RoleAdmin}

// importSpec is the row of the command table for the file import: it says
// how to import and who may (sending the file is the command).
var importSpec = &spec{Name: "导入工单", Aliases: []string{"导入"}, Group: groupImport,
	Usage: "导入工单", Summary: "将12345平台导出的工单文件（xlsx或csv）直接发给我（应用或智能机器人单聊）即导入",
	Roles: importRoles, Action: "导入工单文件", run: (*Handler).importHelp}

// importHelp tells how to import: send the file.
func (h *Handler) importHelp(r *request) error {
	if h.tickets == nil || h.files == nil {
		return models.Errorf(models.EINVALID, "本服务未开启文件导入，请联系管理员")
	}
	r.reply(fmt.Sprintf("请将12345平台导出的工单文件（xlsx或csv，不超过%s）直接发给我：在企业微信中打开本应用或与智能机器人单聊，发送文件即可。导入后我会回复新增、更新、未变和错误行数。",
		sheet.Size(h.tickets.MaxFileBytes())))
	return nil
}

// mayImport reports whether the sender of a file may import it: a file from
// anyone else is evidence of a 反馈 (evidence.go), not an export. When the
// sender cannot be read, the import path answers for it.
func (h *Handler) mayImport(ctx context.Context, in *models.Inbound) bool {
	me, err := h.store.MemberByUserID(ctx, in.FromUserID)
	return err != nil || importSpec.allows(me)
}

// importFile imports the ticket export a member sent as a file. Only the
// 12345 office and admins may: anyone else is told so and nothing is
// fetched. The file is fetched into a temporary file within the import's
// size bound and imported; the import itself answers the sender with its
// outcome (tickets.Origin.Tell). A failure of the system is returned, so
// that the message is handled again.
func (h *Handler) importFile(ctx context.Context, in *models.Inbound) error {
	me, err := h.store.MemberByUserID(ctx, in.FromUserID)
	if err != nil {
		return err
	}
	if !importSpec.allows(me) {
		return models.Errorf(models.EFORBIDDEN, "您好，%s，本文件未导入。", models.UserText(importSpec.refusal()))
	}
	f, err := os.CreateTemp("", "yanzhen-import-*")
	if err != nil {
		return fmt.Errorf("handlers: import: %w", err)
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	limit := h.tickets.MaxFileBytes()
	name, size, err := h.files.FetchAttachment(ctx, in, f, limit)
	switch {
	case err != nil:
		return err
	case size > limit:
		return models.Errorf(models.EINVALID, "%s，本文件未导入", sheet.TooLarge(limit).Error())
	case !importable(name):
		return models.Errorf(models.EINVALID, "仅支持导入12345平台导出的xlsx或csv文件，“%s”未导入", models.ClipRunes(name, 41))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("handlers: import: %w", err)
	}
	tell := msg.ReplyTo(in)
	_, err = h.tickets.ImportFile(ctx, f, tickets.Origin{Route: models.ImportChat, Actor: me.UserID, Name: name, Tell: &tell})
	if models.ErrorCode(err) != models.EINTERNAL {
		return nil // the outcome, a refusal of the file included, was told
	}
	return err
}

// importable reports whether a file name is an export the import reads. A
// file without a name (WeCom did not say) is tried by its content.
func importable(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx", ".csv":
		return true
	}
	return name == ""
}

// recentImports is how many imports 导入状态 lists.
const recentImports = 5

// importStatus answers 导入状态: the last import in detail (when, which
// way, by whom, its counts, why it stopped), the few before it, and the
// open and overdue tickets now.
func (h *Handler) importStatus(r *request) error {
	list, err := r.tx.LatestImports(r.ctx, recentImports)
	if err != nil {
		return err
	}
	ledger, err := r.tx.Ledger(r.ctx, models.DayOf(r.now, h.cfg.Location()), r.now, h.cfg.Rules.WarnWithin.D())
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("【导入状态】\n")
	if len(list) == 0 {
		b.WriteString("尚无工单导入记录。\n")
	} else {
		last := list[0]
		fmt.Fprintf(&b, "最近导入：%s（%s），%s\n", timeText(last.StartedAt, r.now), ago(r.now.Sub(last.StartedAt)), importWay(r.dir, &last))
		b.WriteString(importResult(&last) + "\n")
	}
	total := ledger.Total()
	fmt.Fprintf(&b, "当前在办工单 %d 件，其中超期 %d 件。", total.InProgress, total.Overdue)
	if len(list) > 1 {
		b.WriteString("\n此前导入：")
		for i := range list[1:] {
			imp := &list[i+1]
			fmt.Fprintf(&b, "\n· %s %s：%s", timeText(imp.StartedAt, r.now), importWay(r.dir, imp), importResult(imp))
		}
	}
	r.reply(b.String())
	return nil
}

// importWay says how an import came: 聊天发送文件（刘一）：导出.xlsx.
func importWay(dir *models.Directory, imp *models.TicketImport) string {
	s := imp.Route.Chinese()
	if imp.By != "" {
		s += "（" + personName(dir, imp.By) + "）"
	}
	if imp.Name != "" {
		s += "：" + models.ClipRunes(imp.Name, 41)
	}
	return s
}

// importResult is an import's counts, and why it stopped if it did.
func importResult(imp *models.TicketImport) string {
	counts := fmt.Sprintf("新增 %d，更新 %d，未变 %d，错误 %d", imp.Created, imp.Updated, imp.Unchanged, imp.Failed)
	switch {
	case imp.FinishedAt == nil:
		return "导入未完成（进行中或被中断）"
	case imp.Error != "" && imp.Created+imp.Updated+imp.Unchanged+imp.Failed == 0:
		return "未能导入：" + imp.Error
	case imp.Error != "":
		return counts + "（" + imp.Error + "）"
	}
	return counts
}

// ago writes how long ago something was: 刚刚, 25分钟前, 3小时前, 2天前.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "刚刚"
	case d < time.Hour:
		return fmt.Sprintf("%d分钟前", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d小时前", int(d/time.Hour))
	}
	return fmt.Sprintf("%d天前", int(d/(24*time.Hour)))
}
