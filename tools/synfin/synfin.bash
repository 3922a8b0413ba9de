# bash completion for synfin(1)
_synfin() {
	local cur prev cmd
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	local commands="demo ladder serve get help version"
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
		return
	fi
	case "$prev" in
	--lang) COMPREPLY=($(compgen -W "en zh" -- "$cur")); return ;;
	--scenario) COMPREPLY=($(compgen -W "$(synfin demo --list 2>/dev/null)" -- "$cur")); return ;;
	--svg | --html | --graph | --pcap | --trace | -o | --dir)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac
	case "$cmd" in
	help) COMPREPLY=($(compgen -W "$commands" -- "$cur")); return ;;
	esac
	if [[ "$cur" == -* ]]; then
		# A command's options, from its own --help.
		local opts
		opts=$(synfin "$cmd" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [ "$cmd" = ladder ]; then
		COMPREPLY=($(compgen -f -X '!*.@(pcap|pcapng|cap)' -- "$cur") $(compgen -d -- "$cur"))
	fi
}
complete -F _synfin synfin
