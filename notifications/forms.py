"""The member's message preferences: their language and, per message kind, the channels they want."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.events import MESSAGE_KINDS
from notifications.models import Channel


class MessagePreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=_("消息语言"), required=False, choices=[("", _("商城默认"))] + list(settings.LANGUAGES)
    )

    def __init__(self, *args, preference, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = preference.language
        labels = dict(Channel.choices)
        for kind in MESSAGE_KINDS.values():
            self.fields[f"kind_{kind.name}"] = forms.MultipleChoiceField(
                label=kind.label,
                required=False,
                choices=[(channel, labels[channel]) for channel in kind.channels],
                widget=forms.CheckboxSelectMultiple,
                initial=[c for c in kind.channels if preference.wants(kind.name, c)],
            )

    def kind_fields(self):
        return [self[f"kind_{name}"] for name in MESSAGE_KINDS]

    def opted_out(self) -> list[str]:
        return [
            f"{kind.name}:{channel}"
            for kind in MESSAGE_KINDS.values()
            for channel in kind.channels
            if channel not in self.cleaned_data[f"kind_{kind.name}"]
        ]
