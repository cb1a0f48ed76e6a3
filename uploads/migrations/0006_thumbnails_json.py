"""Thumbnails in one JSON field (existing rows keep their files), and no shelf version row:
the public page's ETag now comes from the page itself."""

from django.db import migrations, models

FIELDS = {
    "webp-480": "thumbnail",
    "webp-720": "webp_720",
    "webp-1080": "webp_1080",
    "avif-480": "avif_480",
    "avif-720": "avif_720",
    "avif-1080": "avif_1080",
}


def fields_to_json(apps, schema_editor):
    Image = apps.get_model("uploads", "Image")
    for image in Image.objects.all().iterator():
        names = {key: getattr(image, field).name for key, field in FIELDS.items()}
        image.thumbnails = {key: name for key, name in names.items() if name}
        image.save(update_fields=["thumbnails"])


def json_to_fields(apps, schema_editor):
    Image = apps.get_model("uploads", "Image")
    for image in Image.objects.all().iterator():
        for key, field in FIELDS.items():
            setattr(image, field, image.thumbnails.get(key, ""))
        image.save(update_fields=list(FIELDS.values()))


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0005_image_thumbnail_variants"),
    ]

    operations = [
        migrations.AddField(
            model_name="image",
            name="thumbnails",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Stored thumbnails by format and width, e.g. {&quot;webp-480&quot;: '
                "&quot;thumbs/&lt;uuid4&gt;.webp&quot;}.",
            ),
        ),
        migrations.RunPython(fields_to_json, json_to_fields),
        *(migrations.RemoveField(model_name="image", name=field) for field in FIELDS.values()),
        migrations.AlterModelOptions(
            name="image",
            options={
                "permissions": [
                    ("import_image", "Can import image metadata"),
                    ("export_image", "Can export image metadata"),
                ]
            },
        ),
        migrations.DeleteModel(name="ShelfVersion"),
    ]
