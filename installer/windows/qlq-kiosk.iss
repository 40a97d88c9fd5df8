; Inno Setup 6.3+ script: the Windows installer of the kiosk, wrapping the PyInstaller one-folder bundle.
; Per-machine (Program Files, administrator rights). For mass deployment, run it silently and let it write the
; provisioning file C:\ProgramData\QLQ-Kiosk\kiosk.toml (format: installer/README.md, "Provisioning file"):
;   qlq-kiosk-1.2.0-windows-x86_64-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
;       /SERVER=https://qlq.hopital.example /SITE=LYON-01 /CODE=K7Q2-9XMP [/LANGUAGE=fr] [/CABUNDLE=C:\certs\ca.pem]
;       [/UPDATEURL=https://releases.hopital.example]
; Only the fields given are written (a field IT does not set keeps the kiosk's own value). Built by the release
; workflow (.github/workflows/release.yml):
;   iscc /DAppVersion=1.2.0 /DBundleDir=..\..\dist\qlq-kiosk /DOutputDir=..\..\dist installer\windows\qlq-kiosk.iss
; and then signed with signtool like qlq-kiosk.exe inside it.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z (from pyproject.toml)
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\qlq-kiosk"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{6E8C3F52-4B1D-4C8E-9A57-0F2D7C1B9E41}
AppName=Kiosque QLQ-C30
AppVersion={#AppVersion}
AppVerName=Kiosque QLQ-C30 {#AppVersion}
AppPublisher=Kiosque QLQ-C30
DefaultDirName={autopf}\QLQ-Kiosk
DisableDirPage=yes
DisableProgramGroupPage=yes
; per-machine: always elevated, never a per-user install
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=qlq-kiosk-{#AppVersion}-windows-x86_64-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\qlq-kiosk.exe
CloseApplications=yes
SetupLogging=yes

[Languages]
Name: "fr"; MessagesFile: "compiler:Languages\French.isl"
Name: "en"; MessagesFile: "compiler:Default.isl"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Dirs]
; the provisioning file's folder: the kiosk (a standard user) reads it and erases the enrollment code once used
Name: "{commonappdata}\QLQ-Kiosk"; Permissions: users-modify

[Icons]
; through the launcher (kiosk/update/launcher.py): the newest verified version (this one or an update the kiosk
; installed in the user's app-data folder), started again after an update or a crash; at every logon too
Name: "{autoprograms}\Kiosque QLQ-C30"; Filename: "{app}\qlq-kiosk.exe"; Parameters: "launch"
Name: "{commonstartup}\Kiosque QLQ-C30"; Filename: "{app}\qlq-kiosk.exe"; Parameters: "launch"

[Run]
; a tablet checks itself after installation (same command IT can run by hand)
Filename: "{app}\qlq-kiosk.exe"; Parameters: "--self-test"; Flags: runhidden waituntilterminated; \
  StatusMsg: "Self-test…"

[UninstallDelete]
; the provisioning file goes with the program; the kiosk's data (%LOCALAPPDATA%) stays, for the nurses' records
Type: files; Name: "{commonappdata}\QLQ-Kiosk\kiosk.toml"

[Code]
function TomlString(const Value: String): String;
var
  S: String;
begin
  { TOML basic string: backslashes and quotes escaped (Windows paths stay valid) }
  S := Value;
  StringChangeEx(S, '\', '\\', True);
  StringChangeEx(S, '"', '\"', True);
  Result := '"' + S + '"';
end;

function HasControlChar(const Value: String): Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to Length(Value) do
    if Ord(Value[I]) < 32 then
      Result := True;
end;

function Param(const Name: String): String;
begin
  Result := Trim(ExpandConstant('{param:' + Name + '|}'));
end;

function ProvisioningProblem(): String;
var
  Server, Language, Updates: String;
begin
  Result := '';
  Server := Param('SERVER');
  Updates := Param('UPDATEURL');
  Language := Param('LANGUAGE');
  if (Server <> '') and (Pos('https://', Lowercase(Server)) <> 1) then
    Result := '/SERVER must be an https:// URL, got: ' + Server
  else if (Updates <> '') and (Pos('https://', Lowercase(Updates)) <> 1) then
    Result := '/UPDATEURL must be an https:// URL, got: ' + Updates
  else if (Language <> '') and (Language <> 'fr') and (Language <> 'en') then
    Result := '/LANGUAGE must be fr or en, got: ' + Language
  else if HasControlChar(Server + Updates + Param('SITE') + Param('CODE') + Param('CABUNDLE')) then
    Result := 'a provisioning option contains a control character';
end;

function InitializeSetup(): Boolean;
var
  Problem: String;
begin
  Problem := ProvisioningProblem();
  Result := Problem = '';
  if not Result then
  begin
    Log('Provisioning refused: ' + Problem);
    SuppressibleMsgBox(Problem, mbCriticalError, MB_OK, IDOK);
  end;
end;

procedure AddField(var Lines: TArrayOfString; const Key, Value: String);
begin
  if Value = '' then
    Exit;
  SetArrayLength(Lines, GetArrayLength(Lines) + 1);
  Lines[GetArrayLength(Lines) - 1] := Key + ' = ' + TomlString(Value);
end;

procedure WriteProvisioning();
var
  Lines: TArrayOfString;
  Target: String;
begin
  SetArrayLength(Lines, 2);
  Lines[0] := '# Kiosque QLQ-C30 provisioning, written by the installer (format: installer/README.md)';
  Lines[1] := 'format = 1';
  AddField(Lines, 'server_url', Param('SERVER'));
  AddField(Lines, 'site', Param('SITE'));
  AddField(Lines, 'enrollment_code', Param('CODE'));
  AddField(Lines, 'language', Param('LANGUAGE'));
  AddField(Lines, 'ca_bundle', Param('CABUNDLE'));
  AddField(Lines, 'update_url', Param('UPDATEURL'));
  if GetArrayLength(Lines) = 2 then
    Exit;  { no provisioning option given: leave any existing file alone }
  Target := ExpandConstant('{commonappdata}\QLQ-Kiosk\kiosk.toml');
  if not SaveStringsToUTF8FileWithoutBOM(Target + '.new', Lines, False) then
    RaiseException('cannot write ' + Target);
  { replace in one step, so the kiosk never reads a half-written file }
  if not RenameFile(Target + '.new', Target) then
  begin
    DeleteFile(Target);
    if not RenameFile(Target + '.new', Target) then
      RaiseException('cannot replace ' + Target);
  end;
  Log('Provisioning written: ' + Target);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if CurStep = ssPostInstall then
    WriteProvisioning();
end;
