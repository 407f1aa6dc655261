package main

import (
	"context"
	"net"
	"slices"

	"yanzhen/demo"
)

const demoUsage = "demo [--addr 127.0.0.1:8080] [--db FILE] [--aibot-ws]"

// cmdDemo runs `yanzhen demo`: the service exactly as `serve` runs it — store,
// callback routes, outbox worker, scheduler — on the embedded defaults, with
// SQLite at --db, the fake WeCom and the group-chat page served on the same
// listener, and the demo district seeded with its past as history (stored as
// sent, nothing caught up), so that the chat starts empty. Nothing to
// configure, no network.
func cmdDemo(ctx context.Context, c *cli, args []string) int {
	fs := newFlags(c, "demo", demoUsage)
	addr := fs.String("addr", "127.0.0.1:8080", "address of the page and the service")
	db := fs.String("db", demo.DefaultDB, "SQLite file of the demo, created on first run")
	ws := fs.Bool("aibot-ws", false, "run on the AI bot's long connection alone, as an installation without a public URL")
	pos, err := fs.parse(args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		c.errorf("usage: yanzhen %s", demoUsage)
		return exitUsage
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		c.errorf("demo: 无法监听 %s（%v），可用 --addr 指定其他地址", *addr, err)
		return exitFail
	}
	defer ln.Close()
	bound := ln.Addr().String()
	environ := c.environ
	if *ws {
		environ = append(slices.Clone(environ), demo.AIBotWSEnv)
	}
	cfg, err := demo.Config(bound, *db, environ)
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	m, err := Open(ctx, cfg, Options{LogFormat: "console", LogOutput: c.stderr})
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	defer m.Close()
	seeded, err := demo.Seed(ctx, m.Tickets, cfg, m.Now())
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	past, err := demo.History(ctx, demo.HistoryOptions{
		Config: cfg, Store: m.Store, Calendar: m.Calendar, Outbox: m.Bot.Outbox(), Jobs: m.jobRunner(), Now: m.Now(),
	})
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	sim, err := demo.New(ctx, demo.Options{Config: cfg, Store: m.Store, Jobs: m.jobRunner(), Log: m.Log.Named("demo")})
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	m.Extra = sim.Handler()
	steps, err := demo.FirstSteps(ctx, m.Store, m.Now())
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	printDemoIntro(c, bound, *db, cfg.WeCom.AIBot.WebSocket(), seeded, past, steps)
	if err := m.Serve(ctx, ln); err != nil {
		m.Log.Error("demo stopped", errField(err))
		return exitFail
	}
	return exitOK
}

// printDemoIntro tells the visitor where the page is, what the seed and the
// history wrote (the import summaries: nothing new on a second run) and what
// to try first.
func printDemoIntro(c *cli, addr, db string, ws bool, seeded demo.Seeded, past demo.Past, st demo.Steps) {
	c.printf("\n雁阵演示已启动：%s/\n", demo.BaseURL(addr))
	if ws {
		c.printf("企业微信通道：智能机器人长连接（仅凭 BotID 与 Secret，无需公网地址）\n")
	}
	c.printf("演示数据（%s，删除该文件即可重新生成）：\n", db)
	c.printf("  组织架构  %s\n", seeded.Org.Summary())
	c.printf("  工单      %s\n", seeded.Tickets)
	c.printf("  今日日报  新增 %d\n", seeded.Reports)
	c.printf("  调度      新增 %d\n", past.Dispatches)
	if !demo.Loopback(addr) {
		c.printf("注意：演示服务监听在 %s，能访问该地址的人都能以群成员身份发言，请仅在可信网络中使用。\n", addr)
	}
	c.printf("\n先试试：\n")
	for i, tip := range st.Tips() {
		c.printf("  %d. %s\n", i+1, tip)
	}
	c.printf("\n按 Ctrl+C 退出。\n\n")
}
