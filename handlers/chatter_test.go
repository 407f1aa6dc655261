package handlers_test

import (
	"fmt"
	"testing"

	"yanzhen/models"
)

// In the group only what looks like a command is answered: chatter gets no
// 「未能识别」. A single chat answers everything.
func TestChatterInTheGroupIsLeftAlone(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		for _, text := range []string{
			"@雁阵 好的，收到", "@雁阵 谢谢", "@雁阵 你好", "👍👍", "好的 已完成",
			"辛苦了", "明白", "OK", "helpful", "大家注意安全", "大家查看一下通知", "领导交办的事项正在落实",
		} {
			if rows := x.say("zhangsan", text).rows; len(rows) != 0 {
				t.Errorf("chatter %q answered: %+v", text, rows)
			}
		}
		// What looks like a command gets the usage of the command it seems to mean.
		for text, want := range map[string]string{
			"住建局的排名多少":             "未能识别“住建局的排名多少”。您是否要用：排名 [今日|本周|本月|上月|本季度|本年度] [图]？发送“帮助”查看可用命令",
			"请问住建局今天进度":            "未能识别“请问住建局今天进度”。您是否要用：进度 <部门>？发送“帮助”查看可用命令",
			"2024112700123 现在怎么样了": "未能识别“2024112700123”。您是否要用：查 <工单号|D12|Z12>？发送“帮助”查看可用命令",
			"D3 那件事":               "未能识别“D3”。您是否要用：查 <工单号|D12|Z12>？发送“帮助”查看可用命令",
			"Z3 那件事":               "未能识别“Z3”。您是否要用：查 <工单号|D12|Z12>？发送“帮助”查看可用命令",
			"我想报日报":                "未能识别“我想报日报”。您是否要用：日报 [部门] <正文>？发送“帮助”查看可用命令",
			"@雁阵 怎么用 help":         "未能识别“怎么用”。您是否要用：帮助 [命令]？发送“帮助”查看可用命令",
			"@雁阵":                  "请发送“帮助”查看可用命令",
		} {
			if body := x.say("zhangsan", text).only(); body != want {
				t.Errorf("%q → %q, want %q", text, body, want)
			}
		}
		// A command word at the start is the command, as always.
		contains(t, "收到 as 签收", x.say("zhangsan", "收到").only(), "您没有待签收的调度")
		// In a single chat the bot answers whatever it is told.
		for i, text := range []string{"你好", "好的，收到"} {
			got := x.handle(&models.Inbound{Route: models.RouteApp, MsgID: fmt.Sprint("single-", i), ChatType: "single", FromUserID: "zhangsan", MsgType: "text", Text: text})
			if len(got.rows) != 1 || got.rows[0].To != "zhangsan" {
				t.Fatalf("single chat %q: %+v", text, got.rows)
			}
			contains(t, "single chat", got.rows[0].Body, "未能识别", "发送“帮助”查看可用命令")
		}
		// A stranger is told to register, chatter or not.
		if body := x.say("stranger", "@雁阵 你好").only(); body != "您尚未登记，请联系管理员" {
			t.Errorf("stranger: %q", body)
		}
	})
}
