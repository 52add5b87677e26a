#!/usr/bin/env python3
"""Writes the transcript fixtures (Claude Code's documented layout, written by us; never real data).

    Tests/ContextMemoryTests/Fixtures/transcripts/make-fixtures.py   # rewrites projects/ beside it

The project is /srv/app.v2 (folder -srv-app-v2). Session 1: a main agent with a response split over
three lines, a compaction, malformed, unknown and hostile lines, and two sub-agents (one typed by its
meta.json and over 80% of its window, one typed by the Agent tool's result, on a [1m] model).
Session 2 (older layout): sidechain lines in the main transcript, a sub-agent beside the sessions,
and a request over 200K tokens (window inferred as 1M). UsageTests states what each must give.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.join(HERE, "projects", "-srv-app-v2")
S1 = "11111111-aaaa-4bbb-8ccc-000000000001"
S2 = "22222222-aaaa-4bbb-8ccc-000000000002"


def line(**fields):
    return json.dumps(fields, separators=(",", ":"))


def assistant(session, request, message, model, usage, content, **extra):
    fields = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/srv/app.v2",
              "sessionId": session, "version": "2.1.200", "message": {
                  "id": message, "type": "message", "role": "assistant", "model": model, "content": content,
                  "stop_reason": None, "usage": {"input_tokens": usage[0], "cache_creation_input_tokens": usage[1],
                                                 "cache_read_input_tokens": usage[2], "output_tokens": usage[3],
                                                 "service_tier": "standard"}},
              "requestId": request, "type": "assistant", "uuid": f"u-{message}-{len(content)}",
              "timestamp": "2026-12-05T10:00:00.000Z"}
    fields.update(extra)
    return json.dumps(fields, separators=(",", ":"))


def write(path, lines, raw_tail=b""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(("\n".join(lines) + "\n").encode())
        handle.write(raw_tail)


HOSTILE = ("\u001b[2J\u001b]0;pwned\u0007 <script>alert(1)</script> sk-ant-api03-"
           + "FAKE" * 20 + "AA \u202e gnp.exe \"usage\":{\"input_tokens\":999999}")

main1 = [
    line(type="queue-operation", operation="enqueue", timestamp="2026-12-05T10:00:00Z", sessionId=S1, content="hi"),
    line(type="user", sessionId=S1, message={"role": "user", "content": "Add the VPC peering API"}, uuid="u1"),
    # One response written as three lines (thinking, text, tool_use): one request, output 120.
    assistant(S1, "req_1", "msg_1", "claude-opus-4-5", (10, 1000, 20000, 5), [{"type": "thinking", "thinking": "..."}]),
    assistant(S1, "req_1", "msg_1", "claude-opus-4-5", (10, 1000, 20000, 5), [{"type": "text", "text": "On it."}]),
    assistant(S1, "req_1", "msg_1", "claude-opus-4-5", (10, 1000, 20000, 120),
              [{"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/srv/app.v2/x"}}]),
    # A tool result holding hostile text, and usage-looking JSON inside a string: never counted or shown.
    line(type="user", sessionId=S1, message={"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": HOSTILE}]},
         toolUseResult={"type": "text", "file": {"filePath": "/srv/app.v2/x", "content": HOSTILE}}),
    assistant(S1, "req_2", "msg_2", "claude-opus-4-5", (5, 2000, 47995, 300), [
        {"type": "tool_use", "id": "toolu_2", "name": "Agent",
         "input": {"description": "QA", "prompt": "test it", "subagent_type": "qa-manager"}}]),
    line(type="user", sessionId=S1, message={"role": "user", "content": [
        {"tool_use_id": "toolu_2", "type": "tool_result", "content": [{"type": "text", "text": "done"}]}]},
         toolUseResult={"status": "completed", "prompt": "test it", "agentId": "a22", "agentType": "qa-manager",
                        "resolvedModel": "claude-opus-4-6[1m]", "totalTokens": 250070,
                        "usage": {"input_tokens": 1, "output_tokens": 70}}),
    line(type="system", subtype="compact_boundary", content="Conversation compacted", sessionId=S1,
         compactMetadata={"trigger": "auto", "preTokens": 167000}, uuid="c1"),
    assistant(S1, "req_3", "msg_3", "claude-opus-4-5", (2, 3000, 146998, 800), [{"type": "text", "text": "Done."}]),
    "this line is not JSON",
    '{"type":"assistant","message":{"usage":{"input_tokens":12',
    '{"type":"assistant","requestId":"req_9","message":{"usage":{"input_tokens":12,}}} }',
    line(type="mystery-new-type", data={"usage": "unknown"}),
    line(type="summary", summary="VPC peering", leafUuid="u9"),
    line(type="file-history-snapshot", messageId="m1", snapshot={"trackedFileBackups": {}}),
    # Claude Code's own messages (API errors) carry zero usage and the model <synthetic>: not requests.
    assistant(S1, "req_s", "msg_s", "<synthetic>", (0, 0, 0, 0), [{"type": "text", "text": "API Error"}]),
    "",
]
# A line with raw control bytes (ESC, BEL, a lone CR) inside a string: well formed enough, skipped.
write(os.path.join(FOLDER, S1 + ".jsonl"), main1,
      raw_tail=b'{"type":"user","message":{"content":"\x1b]0;pwned\x07\rgone"}}\n')

sub1 = [
    line(type="user", isSidechain=True, agentId="a11", sessionId=S1, message={"role": "user", "content": "build"}),
    assistant(S1, "req_a1", "msg_a1", "claude-sonnet-4-5", (100, 9900, 80000, 50), [{"type": "text", "text": "."}],
              isSidechain=True, agentId="a11"),
    assistant(S1, "req_a2", "msg_a2", "claude-sonnet-4-5", (1000, 9000, 160000, 10), [{"type": "text", "text": "."}],
              isSidechain=True, agentId="a11"),
    assistant(S1, "req_a2", "msg_a2", "claude-sonnet-4-5", (1000, 9000, 160000, 400),
              [{"type": "tool_use", "id": "t", "name": "Edit", "input": {}}], isSidechain=True, agentId="a11"),
]
write(os.path.join(FOLDER, S1, "subagents", "agent-a11.jsonl"), sub1)
with open(os.path.join(FOLDER, S1, "subagents", "agent-a11.meta.json"), "w") as handle:
    json.dump({"agentType": "backend-manager", "description": "build", "toolUseId": "toolu_0", "spawnDepth": 1},
              handle)

sub2 = [
    line(type="user", isSidechain=True, agentId="a22", sessionId=S1, message={"role": "user", "content": "test it"}),
    assistant(S1, "req_b1", "msg_b1", "claude-opus-4-6", (0, 50000, 200000, 70), [{"type": "text", "text": "ok"}],
              isSidechain=True, agentId="a22"),
]
write(os.path.join(FOLDER, S1, "subagents", "agent-a22.jsonl"), sub2)

main2 = [
    line(type="user", sessionId=S2, message={"role": "user", "content": "refactor"}),
    assistant(S2, "req_m1", "msg_m1", "claude-sonnet-4-5", (0, 100000, 200000, 900), [{"type": "text", "text": "."}]),
    # Older versions wrote sub-agent lines into the main transcript, marked as a sidechain.
    assistant(S2, "req_x1", "msg_x1", "claude-haiku-4-5", (0, 1000, 30000, 40), [{"type": "text", "text": "."}],
              isSidechain=True, agentId="side9"),
    assistant(S2, "req_x2", "msg_x2", "claude-haiku-4-5", (0, 1000, 31000, 60), [{"type": "text", "text": "."}],
              isSidechain=True, agentId="side9"),
]
write(os.path.join(FOLDER, S2 + ".jsonl"), main2)
# ... or beside the sessions, as agent-<id>.jsonl naming its session in each line.
legacy = [
    assistant(S2, "req_l1", "msg_l1", "claude-haiku-4-5", (0, 500, 12000, 25), [{"type": "text", "text": "."}],
              isSidechain=True, agentId="old7"),
]
write(os.path.join(FOLDER, "agent-old7.jsonl"), legacy)
