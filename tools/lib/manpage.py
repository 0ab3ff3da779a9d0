#!/usr/bin/env python3
"""Writes a man page (roff, man(7) macros) from an argument-parser command's help: the JSON that
`TOOL --experimental-dump-help` prints (swift-argument-parser's ToolInfo, serialization version 0).
Usage: manpage.py TOOL SECTION VERSION < dump.json > TOOL.SECTION"""
import json
import sys


def escape(text):
    """Roff-safe text: backslashes doubled, a leading dot or quote kept from being a request."""
    lines = []
    for line in (text or "").replace("\\", "\\\\").replace("-", "\\-").split("\n"):
        lines.append("\\&" + line if line.startswith((".", "'")) else line)
    return "\n".join(lines)


def synopsis_name(argument):
    names = argument.get("names") or []
    preferred = argument.get("preferredName") or (names[0] if names else None)
    value = argument.get("valueName", "")
    if argument["kind"] == "positional":
        return "<" + value + ">"
    dash = "-" if preferred["kind"] in ("short", "longWithSingleDash") else "--"
    flag = "\\fB" + escape(dash + preferred["name"]) + "\\fR"
    return flag if argument["kind"] == "flag" else flag + " \\fI" + escape(value) + "\\fR"


def option_heading(argument):
    if argument["kind"] == "positional":
        return "\\fI" + escape(argument.get("valueName", "")) + "\\fR"
    parts = []
    for name in argument.get("names") or []:
        dash = "-" if name["kind"] in ("short", "longWithSingleDash") else "--"
        parts.append("\\fB" + escape(dash + name["name"]) + "\\fR")
    heading = ", ".join(parts)
    if argument["kind"] == "option":
        heading += " \\fI" + escape(argument.get("valueName", "")) + "\\fR"
    return heading


def visible(arguments):
    return [a for a in arguments or [] if a.get("shouldDisplay", True)]


def write_command(out, command, path):
    arguments = visible(command.get("arguments"))
    synopsis = " ".join(
        ("[" + synopsis_name(a) + "]") if a.get("isOptional") else synopsis_name(a) for a in arguments)
    out.append(".SH " + ("SYNOPSIS" if len(path) == 1 else escape(" ".join(path).upper())))
    out.append("\\fB" + escape(" ".join(path)) + "\\fR " + synopsis)
    if len(path) > 1 and command.get("abstract"):
        out.append(".PP\n" + escape(command["abstract"]))
    if command.get("discussion"):
        out.append(".PP\n" + escape(command["discussion"]).replace("\n\n", "\n.PP\n"))
    for argument in arguments:
        out.append(".TP\n" + option_heading(argument))
        help_text = argument.get("abstract", "")
        if argument.get("defaultValue"):
            help_text += " (default: " + argument["defaultValue"] + ")"
        out.append(escape(help_text) or "\\&")
    for sub in command.get("subcommands") or []:
        if sub.get("shouldDisplay", True) and sub["commandName"] != "help":
            write_command(out, sub, path + [sub["commandName"]])


def main():
    tool, section, version = sys.argv[1:4]
    command = json.load(sys.stdin)["command"]
    out = ['.TH "%s" "%s" "" "qsm %s" "qsm"' % (tool.upper(), section, version)]
    out.append(".SH NAME\n" + escape(tool) + " \\- " + escape(command.get("abstract", "")))
    write_command(out, command, [tool])
    out.append(".SH SEE ALSO\n/usr/share/doc/qsm/operations.md")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
