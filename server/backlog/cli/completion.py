"""Shell completion: `backlog completion bash|zsh|fish` prints a script; the script asks
`backlog _complete WORD` for the candidates of the word being typed (one per line).

Candidates: `+tag` / `-tag` for a word starting with + or -, `project:NAME` after `project:`,
`--option` after --, else the commands and the attribute names with their colon (fields and
the UDAs tasks have). The shell keeps those that start with the word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from backlog.cli import grammar
from backlog.core.model import FIELDS
from backlog.errors import BacklogError

BASH = r'''# bash completion for backlog: eval "$(backlog completion bash)" in ~/.bashrc
_backlog() {
    local line=${COMP_LINE:0:COMP_POINT}
    local cur=${line##*[[:space:]]}
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$(command backlog _complete "$cur" 2>/dev/null)" -- "$cur"))
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        # bash replaces only the part after the last colon
        local colon=${cur%"${cur##*:}"} i=${#COMPREPLY[@]}
        while ((i-- > 0)); do COMPREPLY[i]=${COMPREPLY[i]#"$colon"}; done
    fi
}
complete -o nosort -F _backlog backlog
'''
ZSH = r'''#compdef backlog
# zsh completion for backlog: eval "$(backlog completion zsh)" in ~/.zshrc, after compinit
_backlog() {
    local -a found
    found=(${(f)"$(command backlog _complete "${words[CURRENT]}" 2>/dev/null)"})
    compadd -Q -- $found
}
compdef _backlog backlog
'''
FISH = r'''# fish completion for backlog: backlog completion fish > ~/.config/fish/completions/backlog.fish
complete -c backlog -f -a '(command backlog _complete (commandline -ct) 2>/dev/null)'
'''
SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


def script(words: tuple[str, ...]) -> str:
    """The completion script of the one shell named; BacklogError otherwise."""
    if len(words) != 1 or words[0] not in SCRIPTS:
        raise BacklogError("completion", "needs the shell: bash, zsh or fish", 'e.g. eval "$(backlog completion bash)"')
    return SCRIPTS[words[0]].rstrip("\n")


def candidates(word: str, names: Callable[[str], Iterable[str]], udas: Callable[[], Iterable[str]]) -> list[str]:
    """What `word` may become; `names("project" | "tags")` lists those of pending tasks."""
    if word.startswith("--"):
        return [f"--{o}" for o in (*grammar.FLAG_OPTIONS, *grammar.VALUE_OPTIONS)]
    if word[:1] in ("+", "-"):
        return [word[0] + tag for tag in names("tags")]
    key, colon, _ = word.partition(":")
    if colon and key in ("project", "pro", "proj"):
        return [f"{key}:{name}" for name in names("project")]
    public = [name for name in grammar.COMMANDS if not name.startswith("_")]
    return public + [f"{name}:" for name in (*FIELDS, *udas()) if name != "id"]
