/*
 * emogate Emotet rules: Word VBA droppers, 2019-2021. They match the
 * decompressed VBA source ("vba_source" objects emogate derives from
 * MS-OVBA streams); raw documents hold the source compressed.
 * Written for emogate from public descriptions; no third-party rule text.
 */

rule Emotet_VBA_WMI_Hidden_Process_2019 : emotet vba
{
    meta:
        description = "Auto-run VBA that gets a WMI object and creates a process with a hidden window (Win32_ProcessStartup.ShowWindow), the Emotet Word dropper launch of 2019-2020"
        reference = "https://www.cert.europa.eu/publications/security-advisories/2019-021/"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        $auto1 = "Document_Open" ascii nocase
        $auto2 = "AutoOpen" ascii nocase
        $auto3 = "Document_Close" ascii nocase
        $get = "GetObject(" ascii nocase
        $hide = "ShowWindow" ascii nocase
        $create = ".Create" ascii nocase
        $wmi1 = "winmgmts" ascii nocase
        $wmi2 = "Win32_Process" ascii nocase
        $junk = "Replace(" ascii nocase
    condition:
        any of ($auto*) and $get and $hide and $create
        and (any of ($wmi*) or #junk >= 3)
}

rule Emotet_VBA_Encoded_PowerShell_2019 : emotet vba
{
    meta:
        description = "Auto-run VBA carrying a base64 UTF-16LE PowerShell command (-e/-enc/-ENCOD) of the kind Emotet Word droppers launched, 2019-2021"
        reference = "https://www.binarydefense.com/threat_watch/emotet-updates-prompt-new-detection-strategies-for-defenders/"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        $auto1 = "Document_Open" ascii nocase
        $auto2 = "AutoOpen" ascii nocase
        $auto3 = "Document_Close" ascii nocase
        // "$<letter>" "Set (" "IEX" and "iex" as UTF-16LE, base64-encoded.
        // For $b1 the rest must keep the shape base64 gives UTF-16LE ASCII
        // (every other byte zero): 8-character periods "?[AQgw][AB]?A[A-H]?A".
        // Random base64 (any attachment) fits it by chance only ~1e-13 per
        // position, unlike a bare "JAB" prefix (seen every ~260 KB).
        $b1 = /JAB[A-Za-z0-9+\/]A[A-H][A-Za-z0-9+\/]A([A-Za-z0-9+\/][AQgw][AB][A-Za-z0-9+\/]A[A-H][A-Za-z0-9+\/]A){4}/ ascii
        $b2 = /UwBlAHQA[A-Za-z0-9+\/]{32}/ ascii
        $b3 = /SQBFAFgA[A-Za-z0-9+\/]{32}/ ascii
        $b4 = /aQBlAHgA[A-Za-z0-9+\/]{32}/ ascii
    condition:
        any of ($auto*) and any of ($b*)
}

rule Emotet_Word_Fake_Error_Msg_Launcher_2020 : emotet vba
{
    meta:
        description = "Fake 'Word experienced an error trying to open the file' message shown with msg.exe while an encoded PowerShell command starts (Emotet Word dropper, December 2020)"
        reference = "https://www.binarydefense.com/threat_watch/emotet-updates-prompt-new-detection-strategies-for-defenders/"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        $msg = "Word experienced an error trying to open the file" ascii wide nocase
        $m1 = "msg %username%" ascii wide nocase
        $e1 = "-ENCOD" ascii wide nocase
        $e2 = "-enc " ascii wide nocase
        $e3 = "-e JAB" ascii wide
    condition:
        $msg and ($m1 or any of ($e*))
}
