from django.urls import path

from . import views

urlpatterns = [
    path("send", views.send, name="otp-send"),
    path("verify", views.verify, name="otp-verify"),
]
