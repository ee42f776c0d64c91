/*
 * emogate Emotet rules: Windows shortcut (LNK) droppers, April-May 2022.
 * Shortcut strings are UTF-16LE when the IsUnicode flag is set, so every
 * string is matched ascii and wide. Written for emogate from public
 * descriptions; no third-party rule text.
 */

rule Emotet_LNK_Findstr_Appended_Script_2022 : emotet lnk
{
    meta:
        description = "Shortcut whose command line uses findstr to cut a VBScript appended to the .lnk itself into %temp% and run it (Emotet LNK dropper, April 2022)"
        reference = "https://www.bleepingcomputer.com/news/security/emotet-malware-infects-users-again-after-fixing-broken-installer/"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        $findstr = "findstr" ascii wide nocase
        $vbs = ".vbs" ascii wide nocase
        $lnk = ".lnk" ascii wide nocase
        $t1 = "%tmp%" ascii wide nocase
        $t2 = "%temp%" ascii wide nocase
    condition:
        uint32(0) == 0x0000004C and uint32(4) == 0x00021401
        and $findstr and $vbs and ($lnk or any of ($t*))
}

rule Emotet_LNK_PowerShell_Downloader_2022 : emotet lnk
{
    meta:
        description = "Shortcut whose PowerShell command line tries several download URLs and registers the result with regsvr32 (Emotet LNK dropper, April-May 2022)"
        reference = "https://www.bleepingcomputer.com/news/security/emotet-malware-infects-users-again-after-fixing-broken-installer/"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        $ps = "powershell" ascii wide nocase
        $run1 = "regsvr32" ascii wide nocase
        $run2 = "rundll32" ascii wide nocase
        $u1 = "http://" ascii wide nocase
        $u2 = "https://" ascii wide nocase
    condition:
        uint32(0) == 0x0000004C and uint32(4) == 0x00021401
        and $ps and any of ($run*) and (#u1 + #u2) >= 2
}
