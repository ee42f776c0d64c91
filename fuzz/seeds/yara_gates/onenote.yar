/*
 * emogate Emotet rules: OneNote droppers, March 2023 (a script file
 * embedded in the section under a "View"/"Open" button image).
 * Written for emogate from public descriptions; no third-party rule text.
 */

rule Emotet_OneNote_Embedded_Script_2023 : emotet onenote
{
    meta:
        description = "OneNote section with an embedded file (FileDataStoreObject) holding an HTA, WSF, VBScript or batch script (Emotet OneNote dropper, March 2023)"
        reference = "https://www.bleepingcomputer.com/news/security/emotet-malware-now-distributed-in-microsoft-onenote-files-to-evade-defenses/"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        // FileDataStoreObject header GUID {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC} (MS-ONESTORE 2.6.13)
        $fdso = { E7 16 E3 BD 65 26 11 45 A4 C4 8D 4D 0B 7A 9E AC }
        $s_hta = "<hta:application" ascii nocase
        $s_wsf = "<job" ascii nocase
        $s_vbs = "WScript.Shell" ascii nocase
        $s_bat = "@echo off" ascii nocase
        $s_cre = "CreateObject(" ascii nocase
    condition:
        // File format GUID {7B5C52E4-D88C-4DA7-AEB1-5378D02996D3} (one section)
        uint32(0) == 0x7B5C52E4 and uint32(4) == 0x4DA7D88C
        and $fdso
        and for any of ($s_*) : ( @ > @fdso[1] )
}

rule Emotet_OneNote_Script_Child_2023 : emotet onenote
{
    meta:
        description = "Script (HTA, WSF, VBScript or batch) extracted from a OneNote section by emogate (Emotet OneNote dropper, March 2023)"
        reference = "https://www.bleepingcomputer.com/news/security/emotet-malware-now-distributed-in-microsoft-onenote-files-to-evade-defenses/"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        $s_hta = "<hta:application" ascii nocase
        $s_wsf = "<script language=" ascii nocase
        $s_vbs = "WScript.Shell" ascii nocase
        $s_bat = "@echo off" ascii nocase
    condition:
        parent_type == "onenote" and filesize < 10MB
        and for any of ($s_*) : ( @ < 65536 )
}
