import "pe"
private rule P { condition: uint16(0) == 0x5A4D }
rule A { strings: $a = { 4D 5A [2-4] ( 01 | 02 ) } $r = /x\/y/i condition: ( P and filesize < 100KB and $a ) }
rule B { strings: $s = "a\"b" wide condition: $s or pe.is_dll() }
