@echo off
rem Emergency zeroing of a Ciphergate gateway (Windows): runs `ciphergate zeroize` with the
rem arguments given, e.g.
rem   scripts\IMSZeroing.bat --config C:\ciphergate\ciphergate.yaml
rem   scripts\IMSZeroing.bat --yes --set dataDir=C:\ciphergate\data
rem   scripts\IMSZeroing.bat --dry-run --config C:\ciphergate\ciphergate.yaml
rem Node is taken from %CIPHERGATE_NODE%, else <install>\node\node.exe, else the PATH. The CLI is
rem found relative to this script. See docs\OPERATIONS.md.
setlocal
set "ROOT=%~dp0.."
set "CLI=%ROOT%\dist\gateway\cli.js"
set "NODE=node"
if exist "%ROOT%\node\node.exe" set "NODE=%ROOT%\node\node.exe"
if defined CIPHERGATE_NODE set "NODE=%CIPHERGATE_NODE%"
if exist "%CLI%" goto run
echo IMSZeroing: %CLI% not found; build the gateway first (npm run build) 1>&2
exit /b 1
:run
"%NODE%" "%CLI%" zeroize %*
exit /b %ERRORLEVEL%
