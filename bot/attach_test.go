package bot

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

var (
	chartPNG = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 1000)...)
	workbook = []byte("PK\x03\x04 a workbook")
)

// rowLine describes a row: channel, destination, kind, body (a name for an
// attachment) and whether it references its payload.
func rowLine(r models.OutboxMessage) string {
	key := ""
	if r.DedupeKey != nil {
		key = " " + *r.DedupeKey
	}
	media := ""
	if r.Media != "" {
		media = " media"
	}
	return fmt.Sprintf("%s→%s%s %s %q%s%s", r.Channel, r.To, r.ChatID, r.Kind, r.Body, media, key)
}

// appOutbox is testOutbox with the self-built app configured.
func appOutbox() *Outbox {
	c := config.Default().WeCom
	c.Robot.ChatID, c.CorpID, c.AgentID, c.Secret = "wrkGroup", "wwcorp", 1000002, "secret"
	return NewOutbox(c)
}

func TestAttachmentsTravelAfterTheText(t *testing.T) {
	o := appOutbox()
	robotIn := &models.Inbound{Route: models.RouteRobot, MsgID: "m1", ChatID: "wrkGroup", ChatType: "group", FromUserID: "zhangsan", ReplyURL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}
	single := *robotIn
	single.ChatType = "single"
	aibotIn := &models.Inbound{Route: models.RouteAIBot, MsgID: "m2", ChatID: "wrkGroup", ChatType: "group", FromUserID: "lisi", ReplyURL: "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=c"}
	both := []msg.Attachment{msg.ImageAttachment("排名.png", chartPNG), msg.FileAttachment("台账.xlsx", workbook)}
	big := msg.ImageAttachment("大图.png", append(chartPNG, make([]byte, robotImageLimit)...))
	for _, c := range []struct {
		name string
		m    msg.Message
		want []string
	}{
		{"group", msg.Message{To: msg.ToGroup(""), Sections: []msg.Section{msg.S(msg.L(msg.Text("月度通报")))}, Attachments: both, DedupeKey: "monthly"},
			[]string{`robot→wrkGroup text "月度通报" monthly`, `robot→wrkGroup image "排名.png" media monthly/a1`, `robot→wrkGroup file "台账.xlsx" media monthly/a2`}},
		{"images alone", msg.Message{To: msg.ToGroup(""), Attachments: both[:1]},
			[]string{`robot→wrkGroup image "排名.png" media`}},
		{"members", msg.Message{To: msg.ToMembers("a", "b"), Attachments: both},
			[]string{`app→a|b image "排名.png" media`, `app→a|b file "台账.xlsx" media`}},
		{"robot reply", msg.Message{To: msg.ReplyTo(robotIn), Sections: []msg.Section{msg.S(msg.L(msg.Text("请查收")))}, Attachments: both[1:]},
			[]string{`reply→` + robotIn.ReplyURL + `wrkGroup text "请查收"`, `reply→` + robotIn.ReplyURL + `wrkGroup file "台账.xlsx" media`}},
		{"an image over 2 MB goes to a robot as a file", msg.Message{To: msg.ToGroup(""), Attachments: []msg.Attachment{big}},
			[]string{`robot→wrkGroup file "大图.png" media`}},
		{"and to the app as an image", msg.Message{To: msg.ToMembers("a"), Attachments: []msg.Attachment{big}},
			[]string{`app→a image "大图.png" media`}},
		{"an AI bot's reply says the attachments went by app message", msg.Message{To: msg.ReplyTo(aibotIn), Sections: []msg.Section{msg.S(msg.L(msg.Text("请查收")))}, Attachments: both},
			[]string{`reply→` + aibotIn.ReplyURL + `wrkGroup markdown "请查收\n\n图片和文件已通过应用消息发送给您，请在应用中查看。"`,
				`app→lisi image "排名.png" media`, `app→lisi file "台账.xlsx" media`}},
		{"a robot's single chat takes 3 answers at most", msg.Message{To: msg.ReplyTo(&single), Sections: []msg.Section{msg.S(msg.L(msg.Text("请查收")))}, Attachments: append(both, both[0])},
			[]string{`reply→` + single.ReplyURL + `wrkGroup text "请查收\n\n图片和文件已通过应用消息发送给您，请在应用中查看。"`,
				`app→zhangsan image "排名.png" media`, `app→zhangsan file "台账.xlsx" media`, `app→zhangsan image "排名.png" media`}},
	} {
		var got []string
		for _, r := range o.Render(c.m) {
			got = append(got, rowLine(r))
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n%s\nwant\n%s", c.name, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
	// Without the app, nothing can carry them to the AI bot's asker; with
	// the AI bot alone, nothing to the group either: the text says so.
	ws := config.Default().WeCom
	ws.AIBot.Mode, ws.AIBot.ChatID = config.AIBotWebSocket, "wrkGroup"
	for name, c := range map[string]struct {
		o    *Outbox
		m    msg.Message
		want []string
	}{
		"an AI bot's reply without an app": {testOutbox(), msg.Message{To: msg.ReplyTo(aibotIn), Sections: []msg.Section{msg.S(msg.L(msg.Text("请查收")))}, Attachments: both},
			[]string{`reply→` + aibotIn.ReplyURL + `wrkGroup markdown "请查收\n\n当前渠道不能发送图片和文件，请配置群机器人或自建应用后再试。"`}},
		"a chart posted by the AI bot alone": {NewOutbox(ws), msg.Message{To: msg.ToGroup(""), Title: "排名图", Attachments: both[:1]},
			[]string{`aibot_push→wrkGroup markdown "当前渠道不能发送图片，请配置群机器人或自建应用后再试。"`}},
	} {
		var got []string
		for _, r := range c.o.Render(c.m) {
			got = append(got, rowLine(r))
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}

	rows := o.Render(msg.Message{To: msg.ToGroup(""), Attachments: both})
	if rows[0].Media != models.MediaHash(chartPNG) || rows[1].Media != models.MediaHash(workbook) {
		t.Error("a row does not reference its payload by hash")
	}
}

func TestAttachmentsWeComCannotTakeAreRefused(t *testing.T) {
	for _, c := range []struct {
		a    msg.Attachment
		want string
	}{
		{msg.FileAttachment("台账.xlsx", make([]byte, fileLimit+1)), "“台账.xlsx”大小为20.0MB，超过企业微信单个文件20MB的上限，请缩短时间范围后再试"},
		{msg.FileAttachment("空.xlsx", []byte("PK")), "“空.xlsx”内容为空，无法发送"},
	} {
		err := checkAttachments(&msg.Message{Attachments: []msg.Attachment{c.a}})
		if models.ErrorCode(err) != models.EINVALID || models.UserText(err) != c.want {
			t.Errorf("%s: %v", c.a.Name, err)
		}
	}
	if err := checkAttachments(&msg.Message{Attachments: []msg.Attachment{msg.FileAttachment("台账.xlsx", make([]byte, fileLimit))}}); err != nil {
		t.Errorf("a file of 20 MB: %v", err)
	}
}
