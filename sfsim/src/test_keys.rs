//! A test-only RSA key pair for the JWT bearer flow: the simulator is configured with the
//! public key (`SimConfig::jwt_public_key_pem`), clients sign assertions with the private
//! one. Generated for these tests; not a secret of anything.

/// The private key (PKCS#8 PEM).
pub const PRIVATE_KEY_PEM: &str = r"-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDalkwpnPw7HPH9
I2Qw76siMhpsJfCLbQ5vrMjQ0sOf4LIbxrLIHxklV62o1880dnKI9GJhgxnJsDme
4bxuhMWzn8ugguquOaAnZ3weGUU6g0NZUeIf5yvtX/pLKhHfikcjODZV9SK4WOwF
Tds/psWWcLbBKwEOBiynXJSyoYEDlkVVTkjoizV91ogEqfxwOj8jTW47r9kjS2Rw
zzHwUN9szp4euh/CDgdBxfXJq/smGcD9yynLGCSVGAF/p6n2DYRwXTX/QnMJvsqf
UrOWoGoz2uQOTGiOrClhLUx1//dgRdgliKg6It7FdoMNNSob7lum8fvpI6SkohTA
m/g5to8jAgMBAAECggEAAILl12hLu574lRK/Vo5Qntz84UUZ+MYLZ2IUslm/V7/K
X70K0PoRpWyhFNgdyJN1qPSHTmLqH2Xf9ayqBziAz6DuEGcDj8jFrlpDiCZ+HPbt
SzsQgBaayE9ICSCg2TSVKraesC4BI+r+jMfBwbaI2mYFGYI68JNI3H/iVVY0P6n7
ZF/u/arvS39P19h1xLULdEKCq+xNBAtoY3gC/7kleOSItXjZC8CKmDcnsPVjQm60
7OqiTBcpUgTpbntkW7kZKIuDyWwa9whxtKRuXIEGGU4c3QvbHRX+KvvpzR3aXDkE
7HaXMGYFCeTnZwjpFQAcqHnJDaFUT13Ix5R+4m7TsQKBgQDvMAgvB6Hclt7tijaS
WVZX+SyCtKIQqYgaDrQ3a1gTb1dakB2TQIjX7otPdzfjhuqjpHuxwjHdXgXe3zj6
JGjG9ehaI2mikR9+bRRmamZKcoEd69NbMEWvFLjnDBIHDxs6RlAxmOfiYHZFYT0y
BM7qd/WDcHyFfZlYFN32ynDyNwKBgQDp85PUaM3kmI7+exsxQIOBqh16H36jc67R
tFmnLXW2JM54+60b1wKlRrlH5J4g7Mftn77ZRoAFD+mrHffPpRnnBb9gdxuwXgUE
Gg5N70AWWSyfm2QFQv8HjRTYcMAza+eBHSnxRn2PMpCW7mLv0SwQgsGTus8nSLW5
qqEPRqkEdQKBgCuxlo0g08y8MtUp3nY1o7RGbH8kCEcK8TXxYbKOBXTnbgm5Me3o
aBcqGIDXwnnp94sVTRNX6kwKFQB1vq7TX+CYo21z8qQj5qDtxEBBR5Zp/HQ+1Elg
NBqbqntqlRB9DfhDR/sHd7S+8lwSO1+byUDD0THFprmsDAsvJK0kpiVZAoGBAM7Z
j1ZaB9lbTesRO7yzVtLZb1Cf8h9g1CwT8sTOe+o85tWvaKJZ27v4KS+4oltoH2kp
Odvv6pcPN8IVMBtG1f0eZtRK2493waWbyBP+OsLHu52vDaNdVhH+GnU4U6fjev/8
oi3y7mcjBRZ91bpGTliW08Ljg+8u6YYsqFTSW/RVAoGAEIC4p2brSaw1p+chgwMe
SZmh80jLP27dT8oGWQxfaXziDFSQO5cUAlAaWBaAb3xLxuwqw346SRSkDCm5tMCq
N6Fda15k/JP+fH7SS9+cXceV2Rt8yNFROqU+0waI/adbEw8tIIu7N+i9eEUTDM0y
Yn8XMc4UVvW4NZ4/BNz24FM=
-----END PRIVATE KEY-----";
/// The matching public key (SPKI PEM).
pub const PUBLIC_KEY_PEM: &str = r"-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2pZMKZz8Oxzx/SNkMO+r
IjIabCXwi20Ob6zI0NLDn+CyG8ayyB8ZJVetqNfPNHZyiPRiYYMZybA5nuG8boTF
s5/LoILqrjmgJ2d8HhlFOoNDWVHiH+cr7V/6SyoR34pHIzg2VfUiuFjsBU3bP6bF
lnC2wSsBDgYsp1yUsqGBA5ZFVU5I6Is1fdaIBKn8cDo/I01uO6/ZI0tkcM8x8FDf
bM6eHrofwg4HQcX1yav7JhnA/cspyxgklRgBf6ep9g2EcF01/0JzCb7Kn1KzlqBq
M9rkDkxojqwpYS1Mdf/3YEXYJYioOiLexXaDDTUqG+5bpvH76SOkpKIUwJv4ObaP
IwIDAQAB
-----END PUBLIC KEY-----";
