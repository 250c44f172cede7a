"""Fake Alipay and WeChat Pay gateways on loopback: they speak the real protocols with keys made by the test.

Each runs an http.server in a thread on 127.0.0.1 (port 0), verifies the site's signed requests, answers
pay / refund / query / close as the real gateway does (signed), and sends signed notifies to the site.
"""

import base64
import datetime
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def sign_rsa2(key, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def verify_rsa2(public_key, text: str, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature), text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def post(url, body: bytes, headers: dict) -> tuple[int, bytes]:
    """Deliver a notify the way a gateway does: one HTTP POST, whatever the answer."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class LoopbackGateway:
    """An HTTP server in a thread on 127.0.0.1, port 0; subclasses answer `handle(method, path, headers, body)`."""

    def __init__(self):
        gateway = self
        self.requests = []  # (method, path, what the gateway understood) for the test's assertions
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = gateway.handle(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

            def log_message(self, *args):  # quiet tests
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- Alipay ---------------------------------------------------------------------------------------


def alipay_signing_text(params: dict) -> str:
    """Alipay's signed content: the parameters but sign, empty ones left out, sorted, k=v joined by &."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v not in ("", None))


class FakeAlipay(LoopbackGateway):
    """Alipay's openapi gateway.do: requests verified with the app's public key, answers signed RSA2."""

    def __init__(self, *, app_id="2021000000000001"):
        self.app_id = app_id
        self.app_key = rsa_key()  # the merchant's: the site signs with it, the gateway verifies
        self.alipay_key = rsa_key()  # Alipay's: the gateway signs with it, the site verifies
        self.trades = {}  # out_trade_no -> dict
        super().__init__()

    @property
    def gateway_url(self):
        return f"{self.url}/gateway.do"

    def settings(self, tmp_path) -> dict:
        private, public = tmp_path / "alipay_app_private.pem", tmp_path / "alipay_public.pem"
        private.write_text(private_pem(self.app_key))
        public.write_text(public_pem(self.alipay_key))
        return {
            "ALIPAY_APP_ID": self.app_id,
            "ALIPAY_PRIVATE_KEY_PATH": str(private),
            "ALIPAY_PUBLIC_KEY_PATH": str(public),
            "ALIPAY_GATEWAY": self.gateway_url,
        }

    def _answer(self, method, inner: dict):
        # The sign covers the exact text of the *_response object, as Alipay's does.
        response_type = method.replace(".", "_") + "_response"
        text = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
        sign = sign_rsa2(self.alipay_key, text)
        body = f'{{"{response_type}":{text},"sign":"{sign}"}}'
        return 200, {"Content-Type": "application/json;charset=utf-8"}, body.encode()

    def _error(self, method, sub_code, sub_msg):
        return self._answer(
            method, {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}
        )

    def handle(self, method, path, headers, body):
        url = urlsplit(path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if method == "POST":
            params.update(dict(parse_qsl(body.decode(), keep_blank_values=True)))
        api = params.get("method", "")
        signed = verify_rsa2(self.app_key.public_key(), alipay_signing_text(params), params.get("sign", ""))
        with self.lock:
            self.requests.append((method, api, {**params, "verified": signed}))
        if url.path != "/gateway.do" or not signed or params.get("app_id") != self.app_id:
            return self._answer(
                api or "error",
                {
                    "code": "40002",
                    "msg": "Invalid Arguments",
                    "sub_code": "isv.invalid-signature",
                    "sub_msg": "验签出错",
                },
            )
        if params.get("sign_type") != "RSA2" or params.get("charset") != "utf-8":
            return self._error(api, "isv.invalid-signature-type", "签名类型无效")
        biz = json.loads(params.get("biz_content") or "{}")
        with self.lock:
            if api in ("alipay.trade.page.pay", "alipay.trade.wap.pay"):
                trade = self.trades.setdefault(
                    biz["out_trade_no"],
                    {
                        "trade_no": f"2026{secrets.randbelow(10**20):020d}",
                        "status": "WAIT_BUYER_PAY",
                        "refunds": {},
                    },
                )
                trade.update(
                    total=Decimal(biz["total_amount"]),
                    notify_url=params.get("notify_url", ""),
                    method=api,
                    product_code=biz.get("product_code"),
                )
                return 200, {"Content-Type": "text/html;charset=utf-8"}, "<html>支付宝收银台</html>".encode()
            trade = self.trades.get(biz.get("out_trade_no"))
            if trade is None:
                return self._error(api, "ACQ.TRADE_NOT_EXIST", "交易不存在")
            if api == "alipay.trade.query":
                return self._answer(
                    api,
                    {
                        "code": "10000",
                        "msg": "Success",
                        "trade_no": trade["trade_no"],
                        "out_trade_no": biz["out_trade_no"],
                        "trade_status": trade["status"],
                        "total_amount": f"{trade['total']:.2f}",
                    },
                )
            if api == "alipay.trade.close":
                if trade["status"] != "WAIT_BUYER_PAY":
                    return self._error(api, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
                trade["status"] = "TRADE_CLOSED"
                return self._answer(
                    api,
                    {
                        "code": "10000",
                        "msg": "Success",
                        "trade_no": trade["trade_no"],
                        "out_trade_no": biz["out_trade_no"],
                    },
                )
            if api == "alipay.trade.refund":
                if trade["status"] not in ("TRADE_SUCCESS", "TRADE_CLOSED") or trade.get("paid") is None:
                    return self._error(api, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
                request_no = biz.get("out_request_no") or biz["out_trade_no"]
                amount = Decimal(biz["refund_amount"])
                fund_change = "N"
                if request_no not in trade["refunds"]:
                    if amount <= 0 or sum(trade["refunds"].values()) + amount > trade["total"]:
                        return self._error(api, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
                    trade["refunds"][request_no] = amount
                    fund_change = "Y"
                    if sum(trade["refunds"].values()) == trade["total"]:
                        trade["status"] = "TRADE_CLOSED"
                return self._answer(
                    api,
                    {
                        "code": "10000",
                        "msg": "Success",
                        "trade_no": trade["trade_no"],
                        "out_trade_no": biz["out_trade_no"],
                        "fund_change": fund_change,
                        "refund_fee": f"{sum(trade['refunds'].values()):.2f}",
                    },
                )
        return self._error(api, "isv.invalid-method", "不存在的方法名")

    # What the buyer and Alipay's servers do.

    def buyer_pays(self, out_trade_no):
        with self.lock:
            trade = self.trades[out_trade_no]
            trade["status"] = "TRADE_SUCCESS"
            trade["paid"] = True
        return self.notify(out_trade_no)

    def notify_fields(self, out_trade_no, *, total_amount=None, trade_status=None, app_id=None) -> dict:
        """A notify as Alipay builds it (form fields, signed RSA2 without sign and sign_type)."""
        trade = self.trades.get(
            out_trade_no, {"trade_no": "2026000", "total": Decimal("1.00"), "status": "TRADE_SUCCESS"}
        )
        now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        fields = {
            "notify_time": now,
            "notify_type": "trade_status_sync",
            "notify_id": uuid.uuid4().hex,
            "app_id": app_id or self.app_id,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade["trade_no"],
            "out_trade_no": out_trade_no,
            "trade_status": trade_status or trade["status"],
            "total_amount": total_amount or f"{trade['total']:.2f}",
            "receipt_amount": total_amount or f"{trade['total']:.2f}",
            "buyer_pay_amount": total_amount or f"{trade['total']:.2f}",
            "gmt_payment": now,
            "subject": "订单",
        }
        fields["sign"] = sign_rsa2(self.alipay_key, alipay_signing_text(fields))
        fields["sign_type"] = "RSA2"
        return fields

    def send(self, fields, url=None) -> tuple[int, str]:
        url = url or next(iter(t["notify_url"] for t in self.trades.values() if t.get("notify_url")))
        status, body = post(
            url,
            urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        return status, body.decode()

    def notify(self, out_trade_no, **overrides) -> tuple[int, str]:
        fields = self.notify_fields(out_trade_no, **overrides)
        return self.send(fields, self.trades[out_trade_no]["notify_url"]), fields


# --- WeChat Pay v3 --------------------------------------------------------------------------------


def self_signed_certificate(key, *, serial: int, common_name="Tenpay.com Root CA"):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


class FakeWechatPay(LoopbackGateway):
    """api.mch.weixin.qq.com v3: Authorization checked with the merchant's key, answers and notifies signed
    with the platform key (its self-signed certificate given to the site), resources AES-256-GCM encrypted."""

    def __init__(self, *, mchid="1900000001", appid="wx0000000000000001"):
        self.mchid, self.appid = mchid, appid
        self.merchant_key = rsa_key()
        self.merchant_serial = secrets.token_hex(20).upper()
        self.platform_key = rsa_key()
        self.platform_serial_int = int(secrets.token_hex(20), 16) >> 1  # positive, < 2**159
        self.platform_serial = f"{self.platform_serial_int:X}"
        self.certificate = self_signed_certificate(self.platform_key, serial=self.platform_serial_int)
        self.apiv3_key = secrets.token_hex(16)  # 32 characters, as the merchant platform issues it
        self.trades = {}
        self.refunds = {}
        self.refunds_processing = False
        self.refund_notify_urls = {}
        super().__init__()

    def settings(self, tmp_path) -> dict:
        private = tmp_path / "wechat_apiclient_key.pem"
        private.write_text(private_pem(self.merchant_key))
        cert_dir = tmp_path / "wechat_platform_certs"
        cert_dir.mkdir(exist_ok=True)
        (cert_dir / f"{self.platform_serial}.pem").write_bytes(
            self.certificate.public_bytes(serialization.Encoding.PEM)
        )
        return {
            "WECHATPAY_MCHID": self.mchid,
            "WECHATPAY_APPID": self.appid,
            "WECHATPAY_PRIVATE_KEY_PATH": str(private),
            "WECHATPAY_CERT_SERIAL": self.merchant_serial,
            "WECHATPAY_APIV3_KEY": self.apiv3_key,
            "WECHATPAY_PLATFORM_CERT_DIR": str(cert_dir),
            "WECHATPAY_GATEWAY": self.url,
        }

    def signed_headers(self, body: str, *, timestamp=None, serial=None, key=None) -> dict:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16)
        signature = sign_rsa2(key or self.platform_key, f"{stamp}\n{nonce}\n{body}\n")
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signature,
            "Wechatpay-Serial": serial or self.platform_serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def _answer(self, status, payload=None):
        body = json.dumps(payload, ensure_ascii=False) if payload is not None else ""
        headers = {
            "Content-Type": "application/json",
            "Request-ID": uuid.uuid4().hex,
            **self.signed_headers(body),
        }
        return status, headers, body.encode()

    def _authorized(self, method, path, headers, body) -> bool:
        value = headers.get("Authorization", "")
        scheme, _, rest = value.partition(" ")
        if scheme != "WECHATPAY2-SHA256-RSA2048":
            return False
        fields = dict(part.split("=", 1) for part in rest.split(","))
        fields = {k.strip(): v.strip().strip('"') for k, v in fields.items()}
        if fields.get("mchid") != self.mchid or fields.get("serial_no") != self.merchant_serial:
            return False
        if abs(time.time() - int(fields.get("timestamp", "0"))) > 300:
            return False
        text = f"{method}\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{body.decode()}\n"
        return verify_rsa2(self.merchant_key.public_key(), text, fields.get("signature", ""))

    def handle(self, method, path, headers, body):
        authorized = self._authorized(method, path, headers, body)
        url = urlsplit(path)
        data = json.loads(body) if body else {}
        with self.lock:
            self.requests.append((method, url.path, {**data, "verified": authorized}))
        if not authorized:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        with self.lock:
            if method == "POST" and url.path in ("/v3/pay/transactions/native", "/v3/pay/transactions/h5"):
                if data.get("mchid") != self.mchid or data.get("appid") != self.appid:
                    return self._answer(400, {"code": "PARAM_ERROR", "message": "mchid与appid不匹配"})
                if url.path.endswith("h5") and not data.get("scene_info", {}).get("payer_client_ip"):
                    return self._answer(400, {"code": "PARAM_ERROR", "message": "缺少scene_info"})
                trade = self.trades.setdefault(
                    data["out_trade_no"],
                    {
                        "transaction_id": f"42000{secrets.randbelow(10**23):023d}",
                        "state": "NOTPAY",
                        "refunded": 0,
                    },
                )
                trade.update(
                    total=data["amount"]["total"],
                    notify_url=data["notify_url"],
                    kind=url.path.rsplit("/", 1)[1],
                )
                if url.path.endswith("native"):
                    return self._answer(
                        200, {"code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}"}
                    )
                return self._answer(
                    200,
                    {
                        "h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx{secrets.token_hex(8)}&package=1"
                    },
                )
            if url.path.startswith("/v3/pay/transactions/out-trade-no/"):
                out_trade_no = url.path.split("/")[5]
                trade = self.trades.get(out_trade_no)
                if trade is None:
                    return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
                if method == "POST" and url.path.endswith("/close"):
                    if trade["state"] == "SUCCESS":
                        return self._answer(400, {"code": "ORDERPAID", "message": "订单已支付"})
                    trade["state"] = "CLOSED"
                    return self._answer(204)
                return self._answer(200, self.transaction(out_trade_no))
            if method == "POST" and url.path == "/v3/refund/domestic/refunds":
                trade = self.trades.get(data.get("out_trade_no"))
                if trade is None:
                    return self._answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"})
                if data["out_refund_no"] in self.refunds:
                    return self._answer(200, self.refunds[data["out_refund_no"]])
                amount = data["amount"]
                if trade["state"] not in ("SUCCESS", "REFUND") or amount["total"] != trade["total"]:
                    return self._answer(400, {"code": "INVALID_REQUEST", "message": "订单状态或金额不符"})
                if amount["refund"] <= 0 or trade["refunded"] + amount["refund"] > trade["total"]:
                    return self._answer(400, {"code": "INVALID_REQUEST", "message": "退款金额超限"})
                trade["refunded"] += amount["refund"]
                trade["state"] = "REFUND"
                refund = {
                    "refund_id": f"50300{secrets.randbelow(10**23):023d}",
                    "out_refund_no": data["out_refund_no"],
                    "transaction_id": trade["transaction_id"],
                    "out_trade_no": data["out_trade_no"],
                    # As often for real: accepted now, the outcome notified later to notify_url.
                    "status": "PROCESSING" if self.refunds_processing else "SUCCESS",
                    "amount": {"total": trade["total"], "refund": amount["refund"], "currency": "CNY"},
                }
                self.refund_notify_urls[data["out_refund_no"]] = data.get("notify_url", "")
                self.refunds[data["out_refund_no"]] = refund
                return self._answer(200, refund)
        return self._answer(404, {"code": "NOT_FOUND", "message": "未知接口"})

    def transaction(self, out_trade_no, *, total=None, state=None, mchid=None) -> dict:
        trade = self.trades.get(out_trade_no, {"transaction_id": "4200000", "total": 100, "state": "SUCCESS"})
        return {
            "appid": self.appid,
            "mchid": mchid or self.mchid,
            "out_trade_no": out_trade_no,
            "transaction_id": trade["transaction_id"],
            "trade_type": "NATIVE",
            "trade_state": state or trade["state"],
            "trade_state_desc": "支付成功",
            "success_time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {
                "total": trade["total"] if total is None else total,
                "payer_total": trade["total"],
                "currency": "CNY",
                "payer_currency": "CNY",
            },
        }

    def refund_resource(self, out_refund_no, *, status="SUCCESS", refund=None) -> dict:
        record = self.refunds[out_refund_no]
        return {
            "mchid": self.mchid,
            "out_trade_no": record["out_trade_no"],
            "transaction_id": record["transaction_id"],
            "out_refund_no": out_refund_no,
            "refund_id": record["refund_id"],
            "refund_status": status,
            "success_time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "user_received_account": "招商银行信用卡0403",
            "amount": {
                "total": record["amount"]["total"],
                "refund": record["amount"]["refund"] if refund is None else refund,
                "payer_total": record["amount"]["total"],
                "payer_refund": record["amount"]["refund"],
            },
        }

    def refund_completes(self, out_refund_no, *, status="SUCCESS", refund=None):
        """WeChat finishes a refund it had answered PROCESSING, and says so to the refund's notify_url."""
        with self.lock:
            self.refunds[out_refund_no]["status"] = status
        resource = self.refund_resource(out_refund_no, status=status, refund=refund)
        body = self.notify_body(resource, event_type=f"REFUND.{status}", original_type="refund")
        headers = self.signed_headers(body)
        return self.send(body, headers, self.refund_notify_urls[out_refund_no]), (body, headers)

    def notify_body(
        self, resource: dict, *, event_type="TRANSACTION.SUCCESS", key=None, original_type="transaction"
    ) -> str:
        nonce = secrets.token_hex(6)  # 12 characters, as WeChat's
        ciphertext = AESGCM((key or self.apiv3_key).encode()).encrypt(
            nonce.encode(), json.dumps(resource, ensure_ascii=False).encode(), original_type.encode()
        )
        return json.dumps(
            {
                "id": str(uuid.uuid4()),
                "create_time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": "支付成功",
                "resource": {
                    "original_type": original_type,
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(ciphertext).decode(),
                    "associated_data": original_type,
                    "nonce": nonce,
                },
            },
            ensure_ascii=False,
        )

    def send(self, body: str, headers: dict, url) -> tuple[int, bytes]:
        return post(url, body.encode(), {"Content-Type": "application/json", **headers})

    def buyer_pays(self, out_trade_no):
        with self.lock:
            self.trades[out_trade_no]["state"] = "SUCCESS"
        return self.notify(out_trade_no)

    def notify(self, out_trade_no, **transaction_overrides):
        body = self.notify_body(self.transaction(out_trade_no, **transaction_overrides))
        headers = self.signed_headers(body)
        return self.send(body, headers, self.trades[out_trade_no]["notify_url"]), (body, headers)
