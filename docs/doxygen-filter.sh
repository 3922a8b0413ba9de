#!/bin/sh
# Doxygen input filter for include/synfin/*.h (docs/Doxyfile): a plain C
# comment opening a line becomes a Doxygen comment for what follows it, and
# a comment after a declaration on the same line documents that member.
# The file's opening comment (line 1) becomes the file's own documentation.
# Backslashes and at-signs in comments are escaped so that prose such as
# "\n" or "user@host" is not read as a Doxygen command.
exec sed -e '1s|^/\* |/** @file\n * |' \
	-e '2,$s|^\([[:space:]]*\)/\* |\1/** |' \
	-e 's|\([;,{]\)\([[:space:]]*\)/\* |\1\2/**< |' \
	-e '/\/\*\*/,/\*\//s|\\\([a-zA-Z]\)|\\\\\1|g' "$1"
